// The treaty page's chart: parties and in-force counts over time as steps, the chosen date, markers for the
// resolutions (links) and meetings about the treaty, and each resolution's claim of its number of parties at its date
// and value beside the parties' line. Redrawn whole for a new date or width.
//
// The <svg> is a named group, not an image: an image's children are hidden from assistive technology, so its
// links would be unreachable (axe: nested-interactive). The drawing is hidden instead; the description says it.
import { VERDICTS, verdictOf } from "./claims.js";
import { CLAIM } from "./contract.js";
import { fill, h } from "./dom.js";
import { fmtDate, meetingName, plural, resolutionUrl, today } from "./format.js";

const DAY = 86400000;
const MUTED = "#4f5b69";
// A claimed count: filled where the record agrees, hollow and tied by a dashed line to the record where it does
// not, grey where it cannot be checked; the shapes differ as well as the colours.
const CLAIM_STYLES = {
  verified: { fill: "#17653a", stroke: "#0d3d22", "stroke-width": 1 },
  contradicted: { fill: "#ffffff", stroke: "#a3241c", "stroke-width": 2.5 },
  unchecked: { fill: "#ffffff", stroke: MUTED, "stroke-width": 1.5, "stroke-dasharray": "2 2" },
};
const diamond = (x, y, r) => `M${x},${y - r}l${r},${r}l${-r},${r}l${-r},${-r}z`;
const toTime = (iso) => Date.UTC(+iso.slice(0, 4), +iso.slice(5, 7) - 1, +iso.slice(8, 10));

// A round top for the y axis: 5, or 1, 2, 2.5 or 5 times a power of ten.
function niceMax(value) {
  if (value <= 5) return 5;
  const step = 10 ** Math.floor(Math.log10(value));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * step >= value) return m * step;
  return 10 * step;
}

// Sizes and scales: every date the chart shows fits between t0 and t1, every count under yMax.
function frame(figure, { points, resolutions, meetings, claims, asOf }) {
  const width = Math.max(300, Math.round(figure.clientWidth || 800));
  const narrow = width < 560;
  const height = narrow ? 260 : 320;
  const pad = { left: narrow ? 38 : 48, right: 14, top: 16, bottom: 64 };
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const first = points.length ? points[0].date : asOf;
  const dates = [first, asOf, today(), ...resolutions.map((r) => r.adopted_on), ...meetings.map((m) => m.date), ...claims.map((c) => c.as_of)];
  const t0 = Math.min(...dates.map(toTime));
  const t1 = Math.max(...dates.map(toTime)) + DAY * 120;
  const yMax = niceMax(Math.max(1, ...points.map((p) => p.parties), ...claims.map((c) => c.claimed)));
  const x = (iso) => pad.left + ((toTime(iso) - t0) / (t1 - t0)) * plotW;
  const y = (n) => pad.top + plotH - (n / yMax) * plotH;
  const base = y(0);
  return {
    width, height, narrow, pad, plotW, t0, t1, yMax, x, y, first, base,
    end: today() > asOf ? today() : asOf,
    rows: { resolutions: base + 34, meetings: base + 52 },
  };
}

// One count (parties or in_force) as steps from the first point to the chart's end.
function stepPath(f, points, key) {
  let d = `M${f.x(f.first).toFixed(1)},${f.base.toFixed(1)}`;
  let previous = 0;
  for (const p of points) {
    const value = p[key] ?? 0;
    const px = f.x(p.date).toFixed(1);
    d += `L${px},${f.y(previous).toFixed(1)}L${px},${f.y(value).toFixed(1)}`;
    previous = value;
  }
  return `${d}L${f.x(f.end).toFixed(1)},${f.y(previous).toFixed(1)}`;
}

// The claims of a number of parties in words: how many, and how many the record verifies or contradicts.
function claimsInWords(claims) {
  if (!claims.length) return "";
  const count = (verdict) => claims.filter((c) => verdictOf(c) === verdict).length;
  const [verified, contradicted] = [count("verified"), count("contradicted")];
  return ` ${plural(claims.length, "claim")} of the number of parties: ${verified} verified, ${contradicted} contradicted by the record.`;
}

// The chart in words: its <desc> and its caption.
function summarise({ points, resolutions, meetings, claims, asOf }, first, at, hasInForce) {
  const last = points[points.length - 1] || { parties: 0, in_force: 0 };
  return (
    `${points.length ? `From ${fmtDate(first)} the number of parties rose to ${last.parties}` : "No party yet"}` +
    `${hasInForce && points.length ? `; the treaty is in force for ${last.in_force}` : ""}. ` +
    `On ${fmtDate(asOf)}: ${at.parties} parties${hasInForce ? `, in force for ${at.in_force ?? 0}` : ""}. ` +
    `Marked: ${plural(resolutions.length, "resolution")} and ${plural(meetings.length, "meeting")}.` +
    claimsInWords(claims)
  );
}

// Horizontal grid lines with their counts, ticks for the years, and the names of the two marker rows.
function axes(f) {
  const label = (attrs, text) => h("svg:text", { "font-size": 12, fill: MUTED, ...attrs }, text);
  const lines = [];
  for (let i = 0; i <= 4; i += 1) {
    const value = (f.yMax / 4) * i;
    lines.push(
      h("svg:line", { x1: f.pad.left, x2: f.width - f.pad.right, y1: f.y(value), y2: f.y(value), stroke: "#d5dbe3" }),
      label({ x: f.pad.left - 6, y: f.y(value) + 4, "text-anchor": "end" }, Math.round(value)),
    );
  }
  const y0 = new Date(f.t0).getUTCFullYear();
  const y1 = new Date(f.t1).getUTCFullYear();
  const every = Math.max(1, Math.ceil((y1 - y0 + 1) / (f.narrow ? 5 : 12)));
  for (let year = y0 + 1; year <= y1; year += 1) {
    if ((year - y0 - 1) % every) continue;
    const px = f.x(`${year}-01-01`);
    lines.push(
      h("svg:line", { x1: px, x2: px, y1: f.base, y2: f.base + 5, stroke: MUTED }),
      label({ x: px, y: f.base + 18, "text-anchor": "middle" }, year),
    );
  }
  lines.push(
    label({ x: 4, y: f.rows.resolutions + 4, "font-size": 11 }, f.narrow ? "Res." : "Resolutions"),
    label({ x: 4, y: f.rows.meetings + 4, "font-size": 11 }, f.narrow ? "Mtg." : "Meetings"),
  );
  return lines;
}

function curves(f, points, hasInForce) {
  return [
    h("svg:path", { d: `${stepPath(f, points, "parties")}L${f.x(f.end)},${f.base}Z`, fill: "#0b4f8a", "fill-opacity": 0.08 }),
    hasInForce ? h("svg:path", { d: stepPath(f, points, "in_force"), fill: "none", stroke: "#17653a", "stroke-width": 2.5, "stroke-dasharray": "6 3" }) : null,
    h("svg:path", { d: stepPath(f, points, "parties"), fill: "none", stroke: "#0b4f8a", "stroke-width": 2.5 }),
    h("svg:line", { x1: f.pad.left, x2: f.width - f.pad.right, y1: f.base, y2: f.base, stroke: MUTED }),
  ];
}

// Each resolution a link to its page, each meeting a small image; their <title>s name them.
function markers(f, resolutions, meetings) {
  const row = f.rows.resolutions;
  return [
    ...resolutions.map((r) => {
      const px = f.x(r.adopted_on);
      return h(
        "svg:a",
        { href: resolutionUrl(r.symbol), class: "marker" },
        h("svg:title", {}, `${r.symbol}, adopted ${fmtDate(r.adopted_on)}: ${r.title || ""}`),
        h("svg:line", { x1: px, x2: px, y1: f.pad.top, y2: row - 6, stroke: "#7a4b00", "stroke-dasharray": "2 3", "stroke-opacity": 0.5 }),
        h("svg:path", { d: `M${px},${row - 6}l6,6l-6,6l-6,-6z`, fill: "#b7791f", stroke: "#7a4b00" }),
      );
    }),
    ...meetings.map((m) =>
      h(
        "svg:g",
        { class: "marker", role: "img" },
        h("svg:title", {}, `${meetingName(m)}, ${m.place || ""} ${m.label}`),
        h("svg:circle", { cx: f.x(m.date), cy: f.rows.meetings, r: 5, fill: m.kind === "review_conference" ? "#6b3fa0" : "#ffffff", stroke: "#6b3fa0", "stroke-width": 2 }),
      ),
    ),
  ];
}

// Each claim of a number of parties at its date and value, named by its <title>; a contradicted one tied to the record.
function claimMarkers(f, claims) {
  return claims.map((c) => {
    const [px, py] = [f.x(c.as_of), f.y(c.claimed)];
    const verdict = verdictOf(c);
    const record = c.found === null || c.found === undefined ? "the record cannot tell" : `the record has ${c.found}`;
    return h(
      "svg:g",
      { class: `marker claim ${verdict}`, role: "img" },
      h("svg:title", {}, `${c.symbol}, ${fmtDate(c.as_of)}: claims ${c.claimed} parties; ${record} (${VERDICTS[verdict]})`),
      verdict === "contradicted" && typeof c.found === "number"
        ? h("svg:line", { x1: px, x2: px, y1: py, y2: f.y(c.found), stroke: "#a3241c", "stroke-width": 1.5, "stroke-dasharray": "3 2" })
        : null,
      h("svg:path", { d: diamond(px, py, 6), ...CLAIM_STYLES[verdict] }),
    );
  });
}

// A red line at the chosen date, a dot on the parties' step, and the count beside it.
function chosenDate(f, asOf, at) {
  const ax = f.x(asOf);
  return [
    h("svg:line", { x1: ax, x2: ax, y1: f.pad.top - 4, y2: f.base, stroke: "#a3241c", "stroke-width": 2 }),
    h("svg:circle", { cx: ax, cy: f.y(at.parties), r: 4.5, fill: "#a3241c" }),
    h(
      "svg:text",
      { x: Math.min(ax + 6, f.width - f.pad.right - 4), y: f.pad.top + 10, "font-size": 12, "font-weight": 700, fill: "#a3241c", "text-anchor": ax + 120 > f.width ? "end" : "start" },
      `${fmtDate(asOf)}: ${at.parties}`,
    ),
  ];
}

function legend(hasInForce, claims) {
  const icon = (shape) => h("svg:svg", { viewBox: "0 0 14 14", "aria-hidden": "true" }, shape);
  const claimed = (verdict, words) =>
    claims.some((c) => verdictOf(c) === verdict) ? h("li", {}, icon(h("svg:path", { d: diamond(7, 7, 5), ...CLAIM_STYLES[verdict] })), words) : null;
  return h(
    "ul",
    { class: "legend" },
    h("li", {}, h("span", { class: "swatch parties" }), "parties"),
    hasInForce ? h("li", {}, h("span", { class: "swatch inforce" }), "in force for") : null,
    h("li", {}, h("span", { class: "swatch chosen" }), "the chosen date"),
    h("li", {}, icon(h("svg:path", { d: "M7,1l6,6l-6,6l-6,-6z", fill: "#b7791f", stroke: "#7a4b00" })), "resolution about it"),
    h("li", {}, icon(h("svg:circle", { cx: 7, cy: 7, r: 5, fill: "#fff", stroke: "#6b3fa0", "stroke-width": 2 })), "meeting of the States Parties"),
    h("li", {}, icon(h("svg:circle", { cx: 7, cy: 7, r: 5, fill: "#6b3fa0" })), "review conference"),
    claimed("verified", "parties claimed, as recorded"),
    claimed("contradicted", "parties claimed, not as recorded"),
    claimed("unchecked", "parties claimed, not checkable"),
  );
}

// A click on the plot (not on a marker's link) picks the date under it.
function pickOnClick(svg, f, onPick) {
  svg.addEventListener("click", (event) => {
    if (event.target.closest("a")) return;
    const box = svg.getBoundingClientRect();
    const px = ((event.clientX - box.left) / box.width) * f.width;
    if (px < f.pad.left || px > f.width - f.pad.right) return;
    onPick(new Date(f.t0 + ((px - f.pad.left) / f.plotW) * (f.t1 - f.t0)).toISOString().slice(0, 10));
  });
}

// Draws into `figure` the chart of `chart`: { treatyId, points, resolutions, meetings, claims, asOf, onPick }, where
// `claims` are the treaty's claims (`/v1/treaties/{id}/claims`): those of a number of parties are marked.
export function drawChart(figure, chart) {
  const { treatyId, points, resolutions, meetings, asOf, onPick } = chart;
  const claims = (chart.claims || []).filter((c) => c.kind === CLAIM.PARTIES_COUNT && typeof c.claimed === "number");
  const f = frame(figure, { ...chart, claims });
  const hasInForce = points.some((p) => p.in_force !== null && p.in_force !== undefined);
  const at = [...points].reverse().find((p) => p.date <= asOf) || { parties: 0, in_force: 0 };
  const summary = summarise({ ...chart, claims }, f.first, at, hasInForce);
  const svg = h(
    "svg:svg",
    { viewBox: `0 0 ${f.width} ${f.height}`, width: f.width, height: f.height, role: "group", "aria-labelledby": "chart-title", "aria-describedby": "chart-desc" },
    h("svg:title", { id: "chart-title" }, `Parties to ${treatyId} and States it is in force for, over time`),
    h("svg:desc", { id: "chart-desc" }, summary),
    h("svg:g", { "aria-hidden": "true" }, axes(f), curves(f, points, hasInForce)),
    markers(f, resolutions, meetings),
    h("svg:g", { "aria-hidden": "true" }, chosenDate(f, asOf, at)),
    // Drawn last, over the chosen date's dot: a claim of the count on that day sits exactly there.
    claimMarkers(f, claims),
  );
  pickOnClick(svg, f, onPick);
  fill(figure, svg, legend(hasInForce, claims), h("figcaption", {}, summary, " Click the chart to pick a date."));
}
