// Treaty Watch dashboard: each page fetches the registry's JSON and draws it. No dependencies, no build step.

const SVG = "http://www.w3.org/2000/svg";
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const $ = (selector) => document.querySelector(selector);

// h("a", {href: "/x", class: "y"}, "text", child): an element; null and false children are skipped.
function h(tag, attrs = {}, ...children) {
  const svg = tag.startsWith("svg:");
  const el = svg ? document.createElementNS(SVG, tag.slice(4)) : document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

function fill(target, ...children) {
  const el = typeof target === "string" ? $(target) : target;
  el.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return el;
}

class HttpError extends Error {}

async function getJSON(url) {
  const response = await fetch(url, { headers: { Accept: "application/json" } });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new HttpError(body.detail || `${url}: HTTP ${response.status}`);
  return body;
}

function showError(error) {
  const main = $("main");
  main.prepend(h("p", { class: "error", role: "alert" }, String(error.message || error)));
  document.body.dataset.ready = "error";
}

const fmtDate = (iso) => {
  if (!iso) return "";
  const [y, m, d] = iso.slice(0, 10).split("-").map(Number);
  return `${d} ${MONTHS[m - 1]} ${y}`;
};
const time = (iso) => (iso ? h("time", { datetime: iso.slice(0, 10) }, fmtDate(iso)) : h("span", { class: "muted" }, "—"));
const today = () => new Date().toISOString().slice(0, 10);
const pathTail = (prefix) => decodeURIComponent(location.pathname.slice(prefix.length)).replace(/\/+$/, "");
const enc = encodeURIComponent;
const treatyUrl = (id, asOf) => `/ui/treaties/${enc(id)}${asOf ? `?as_of=${asOf}` : ""}`;
const participantUrl = (code) => `/ui/participants/${enc(code)}`;
const resolutionUrl = (symbol) => `/ui/resolutions/${symbol.split("/").map(enc).join("/")}`;
const badge = (status) => h("span", { class: `badge ${status || "none"}` }, status || "no status");
const plural = (n, one, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const actionName = (action) => (action || "").replaceAll("_", " ");
// Where no report of a treaty's kind was ever recorded the registry cannot say which are overdue, only how many are due.
const noneRecorded = (due) => `no reports recorded (${due} due)`;

function jsonLinks(links) {
  // The footer names the JSON behind the page; the first link is the page's main data.
  const [first, ...rest] = links;
  const primary = $("#json-link");
  primary.href = first[1];
  primary.textContent = `JSON (${first[0]})`;
  const p = primary.parentElement;
  p.querySelectorAll(".more-json").forEach((el) => el.remove());
  let after = primary;
  for (const [label, url] of rest) {
    const link = h("span", { class: "more-json" }, " · ", h("a", { href: url }, `${label} JSON`));
    after.after(link);
    after = link;
  }
}

function setTitle(text) {
  document.title = `${text} · Treaty Watch`;
}

// The date a page shows numbers for: ?as_of= in the URL, else today. Changing it keeps the URL shareable.
function asOfControl(onChange) {
  const input = $("#as-of");
  const initial = new URLSearchParams(location.search).get("as_of");
  input.value = /^\d{4}-\d{2}-\d{2}$/.test(initial || "") ? initial : today();
  input.max = "9999-12-31";
  const apply = () => {
    if (!input.value) return;
    const url = new URL(location.href);
    if (input.value === today()) url.searchParams.delete("as_of");
    else url.searchParams.set("as_of", input.value);
    history.replaceState(null, "", url);
    onChange(input.value);
  };
  input.addEventListener("change", apply);
  $("#asof-form").addEventListener("submit", (event) => {
    event.preventDefault();
    apply();
  });
  $("#today").addEventListener("click", () => {
    input.value = today();
    apply();
  });
  return input;
}

// ---------------------------------------------------------------- home

function describeEvent(event) {
  const d = event.data || {};
  switch (event.type) {
    case "treaty.action.recorded":
      return [
        h("a", { href: participantUrl(d.participant) }, d.participant_name || d.participant),
        ` — ${actionName(d.action)} of `,
        h("a", { href: treatyUrl(d.treaty_id) }, d.treaty_id),
        " on ",
        time(d.date),
      ];
    case "treaty.registered":
      return ["Registered ", h("a", { href: treatyUrl(d.treaty_id) }, d.short_title || d.title)];
    case "resolution.adopted":
      return [h("a", { href: resolutionUrl(d.symbol) }, d.symbol), ` adopted on `, time(d.adopted_on)];
    case "meeting.recorded":
      return [`${meetingName(d)}, ${d.place}, for `, h("a", { href: treatyUrl(d.treaty_id) }, d.treaty_id)];
    case "report.submitted":
      return [
        h("a", { href: participantUrl(d.participant) }, d.participant),
        ` submitted its ${d.period} report on `,
        h("a", { href: treatyUrl(d.treaty_id) }, d.treaty_id),
      ];
    default:
      return [event.type];
  }
}

const EVENT_KINDS = {
  "treaty.action.recorded": ["action", "party"],
  "treaty.registered": ["treaty", "none"],
  "resolution.adopted": ["resolution", "signatory"],
  "meeting.recorded": ["meeting", "none"],
  "report.submitted": ["report", "party"],
};

async function renderSearch(q) {
  const section = $("#results");
  if (!q) {
    section.hidden = true;
    return;
  }
  section.hidden = false;
  fill("#results-body", h("p", { class: "muted" }, "Searching…"));
  const url = `/v1/search?q=${enc(q)}`;
  jsonLinks([["search", url], ["events", "/v1/events/latest?limit=12"], ["treaties", "/v1/treaties"]]);
  const found = await getJSON(url);
  const group = (title, items, item) =>
    items.length ? [h("h3", {}, title), h("ul", { class: "cards" }, items.map((i) => h("li", {}, item(i))))] : [];
  fill(
    "#results-body",
    found.count === 0 ? h("p", {}, `Nothing matches “${q}”.`) : null,
    group("Treaties", found.treaties, (t) => [
      h("a", { href: treatyUrl(t.treaty_id) }, t.short_title || t.title || t.treaty_id),
      h("span", { class: "sub" }, h("span", { class: "id" }, t.treaty_id), t.short_title ? ` · ${t.title}` : ""),
    ]),
    group("Participants", found.participants, (p) => [
      h("a", { href: participantUrl(p.participant) }, p.name),
      h("span", { class: "sub id" }, p.participant),
    ]),
    group("Resolutions", found.resolutions, (r) => [
      h("a", { href: resolutionUrl(r.symbol) }, r.symbol),
      h("span", { class: "sub" }, r.title || "", r.adopted_on ? ` · adopted ${fmtDate(r.adopted_on)}` : ""),
    ]),
  );
}

async function homePage() {
  const params = new URLSearchParams(location.search);
  const q = (params.get("q") || "").trim();
  $("#q").value = q;
  $("#search").addEventListener("submit", (event) => {
    event.preventDefault();
    const value = $("#q").value.trim();
    const url = new URL(location.href);
    if (value) url.searchParams.set("q", value);
    else url.searchParams.delete("q");
    history.pushState(null, "", url);
    renderSearch(value).catch(showError);
  });
  window.addEventListener("popstate", () => {
    const value = new URLSearchParams(location.search).get("q") || "";
    $("#q").value = value;
    renderSearch(value).catch(showError);
  });
  jsonLinks([["events", "/v1/events/latest?limit=12"], ["treaties", "/v1/treaties"]]);
  const [treaties, events] = await Promise.all([
    getJSON("/v1/treaties"),
    getJSON("/v1/events/latest?limit=12"),
    renderSearch(q),
  ]);
  const shown = treaties.items.slice(0, 12);
  fill(
    "#treaties",
    shown.map((t) =>
      h(
        "li",
        {},
        h("a", { href: treatyUrl(t.treaty_id) }, t.short_title || t.title),
        h("span", { class: "sub" }, h("span", { class: "id" }, t.treaty_id), t.short_title ? ` · ${t.title}` : ""),
      ),
    ),
    treaties.count > shown.length ? h("li", { class: "muted" }, `and ${treaties.count - shown.length} more: search above`) : null,
    treaties.count === 0 ? h("li", { class: "muted" }, "No treaty is registered yet.") : null,
  );
  fill(
    "#events",
    events.items.map((e) => {
      const [kind, style] = EVENT_KINDS[e.type] || ["event", "none"];
      return h(
        "li",
        {},
        h("span", { class: `badge kind ${style}` }, kind),
        h("span", {}, describeEvent(e)),
        h("time", { datetime: e.applied_at }, `recorded ${fmtDate(e.applied_at)} ${e.applied_at.slice(11, 16)} UTC`),
      );
    }),
    events.items.length === 0 ? h("li", { class: "muted" }, "No event has been applied yet.") : null,
  );
}

// ---------------------------------------------------------------- treaty

const ORDINALS = ["First", "Second", "Third", "Fourth", "Fifth", "Sixth", "Seventh", "Eighth", "Ninth", "Tenth"];
const ordinalWord = (n) => ORDINALS[n - 1] || `${n}th`;
const monthWord = (n) => (ORDINALS[n - 1] || `${n}th`).toLowerCase();

function meetingName(m) {
  const kind = { msp: "Meeting of the States Parties", review_conference: "Review Conference" }[m.kind] || actionName(m.kind);
  return m.ordinal ? `${ordinalWord(m.ordinal)} ${kind}` : kind;
}

function describeDelay(delay, from) {
  const days = delay.days ? ` plus ${delay.days} days` : "";
  if (delay.anchor === "first_day_of_month") {
    return `on the first day of the ${monthWord(delay.months)} month after the month of ${from}${days}`;
  }
  return `${delay.months} months${days} after ${from}`;
}

function describeRules(rules) {
  const unknown = (what) => h("li", {}, `${what}: `, h("span", { class: "muted" }, "unknown to the registry"));
  if (!rules) return [h("li", { class: "muted" }, "The registry knows none of this treaty's rules, so it does not compute when it is in force.")];
  const eif = rules.entry_into_force;
  const r = rules.reporting;
  return [
    eif
      ? h("li", {}, h("b", {}, "Entry into force: "), describeDelay(eif.delay, `the deposit of the ${eif.instruments}th binding instrument`))
      : unknown("Entry into force"),
    rules.later_participants
      ? h("li", {}, h("b", {}, "For a State joining later: "), describeDelay(rules.later_participants, "its deposit"))
      : unknown("For a State joining later"),
    rules.withdrawal
      ? h("li", {}, h("b", {}, "Withdrawal: "), "takes effect ", describeDelay(rules.withdrawal, "the depositary receives it"))
      : unknown("Withdrawal"),
    r
      ? h(
          "li",
          {},
          h("b", {}, "Reporting: "),
          `an initial report (${r.kind}) within ${r.initial_within_days} days of entry into force for the State, then an annual update by ${Number(r.annual_due.slice(3))} ${MONTHS[Number(r.annual_due.slice(0, 2)) - 1]} covering the previous year`,
        )
      : unknown("Reporting"),
  ];
}

const toTime = (iso) => Date.UTC(+iso.slice(0, 4), +iso.slice(5, 7) - 1, +iso.slice(8, 10));

function niceMax(value) {
  if (value <= 5) return 5;
  const step = 10 ** Math.floor(Math.log10(value));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * step >= value) return m * step;
  return 10 * step;
}

// A step chart of parties and in-force counts, with the chosen date and markers for resolutions and meetings.
function drawChart(figure, { treatyId, points, resolutions, meetings, asOf, onPick }) {
  const width = Math.max(300, Math.round(figure.clientWidth || 800));
  const narrow = width < 560;
  const height = narrow ? 260 : 320;
  const pad = { left: narrow ? 38 : 48, right: 14, top: 16, bottom: 64 };
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const first = points.length ? points[0].date : asOf;
  const dates = [first, asOf, today(), ...resolutions.map((r) => r.adopted_on), ...meetings.map((m) => m.date)];
  const t0 = Math.min(...dates.map(toTime));
  const t1 = Math.max(...dates.map(toTime)) + 86400000 * 120;
  const yMax = niceMax(Math.max(1, ...points.map((p) => p.parties)));
  const x = (iso) => pad.left + ((toTime(iso) - t0) / (t1 - t0)) * plotW;
  const y = (n) => pad.top + plotH - (n / yMax) * plotH;
  const base = y(0);
  const end = today() > asOf ? today() : asOf;

  const step = (key) => {
    let d = `M${x(first).toFixed(1)},${base.toFixed(1)}`;
    let previous = 0;
    for (const p of points) {
      const value = p[key] ?? 0;
      const px = x(p.date).toFixed(1);
      d += `L${px},${y(previous).toFixed(1)}L${px},${y(value).toFixed(1)}`;
      previous = value;
    }
    return `${d}L${x(end).toFixed(1)},${y(previous).toFixed(1)}`;
  };
  const hasInForce = points.some((p) => p.in_force !== null && p.in_force !== undefined);
  const last = points[points.length - 1] || { parties: 0, in_force: 0 };
  const at = [...points].reverse().find((p) => p.date <= asOf) || { parties: 0, in_force: 0 };
  const summary =
    `${points.length ? `From ${fmtDate(first)} the number of parties rose to ${last.parties}` : "No party yet"}` +
    `${hasInForce && points.length ? `; the treaty is in force for ${last.in_force}` : ""}. ` +
    `On ${fmtDate(asOf)}: ${at.parties} parties${hasInForce ? `, in force for ${at.in_force ?? 0}` : ""}. ` +
    `Marked: ${plural(resolutions.length, "resolution")} and ${plural(meetings.length, "meeting")}.`;

  const grid = [];
  for (let i = 0; i <= 4; i += 1) {
    const value = (yMax / 4) * i;
    grid.push(
      h("svg:line", { x1: pad.left, x2: width - pad.right, y1: y(value), y2: y(value), stroke: "#d5dbe3" }),
      h("svg:text", { x: pad.left - 6, y: y(value) + 4, "text-anchor": "end", "font-size": 12, fill: "#4f5b69" }, Math.round(value)),
    );
  }
  const y0 = new Date(t0).getUTCFullYear();
  const y1 = new Date(t1).getUTCFullYear();
  const every = Math.max(1, Math.ceil((y1 - y0 + 1) / (narrow ? 5 : 12)));
  for (let year = y0 + 1; year <= y1; year += 1) {
    if ((year - y0 - 1) % every) continue;
    const px = x(`${year}-01-01`);
    grid.push(
      h("svg:line", { x1: px, x2: px, y1: base, y2: base + 5, stroke: "#4f5b69" }),
      h("svg:text", { x: px, y: base + 18, "text-anchor": "middle", "font-size": 12, fill: "#4f5b69" }, year),
    );
  }

  const rowRes = base + 34;
  const rowMeet = base + 52;
  const markers = [
    h("svg:text", { x: 4, y: rowRes + 4, "font-size": 11, fill: "#4f5b69" }, narrow ? "Res." : "Resolutions"),
    h("svg:text", { x: 4, y: rowMeet + 4, "font-size": 11, fill: "#4f5b69" }, narrow ? "Mtg." : "Meetings"),
    ...resolutions.map((r) =>
      h(
        "svg:a",
        { href: resolutionUrl(r.symbol), class: "marker" },
        h("svg:title", {}, `${r.symbol}, adopted ${fmtDate(r.adopted_on)}: ${r.title || ""}`),
        h("svg:line", { x1: x(r.adopted_on), x2: x(r.adopted_on), y1: pad.top, y2: rowRes - 6, stroke: "#7a4b00", "stroke-dasharray": "2 3", "stroke-opacity": 0.5 }),
        h("svg:path", { d: `M${x(r.adopted_on)},${rowRes - 6}l6,6l-6,6l-6,-6z`, fill: "#b7791f", stroke: "#7a4b00" }),
      ),
    ),
    ...meetings.map((m) =>
      h(
        "svg:g",
        { class: "marker" },
        h("svg:title", {}, `${meetingName(m)}, ${m.place || ""} ${m.label}`),
        h("svg:circle", { cx: x(m.date), cy: rowMeet, r: 5, fill: m.kind === "review_conference" ? "#6b3fa0" : "#ffffff", stroke: "#6b3fa0", "stroke-width": 2 }),
      ),
    ),
  ];
  const ax = x(asOf);
  const svg = h(
    "svg:svg",
    { viewBox: `0 0 ${width} ${height}`, width, height, role: "img", "aria-labelledby": "chart-title chart-desc" },
    h("svg:title", { id: "chart-title" }, `Parties to ${treatyId} and States it is in force for, over time`),
    h("svg:desc", { id: "chart-desc" }, summary),
    grid,
    h("svg:path", { d: `${step("parties")}L${x(end)},${base}Z`, fill: "#0b4f8a", "fill-opacity": 0.08 }),
    hasInForce ? h("svg:path", { d: step("in_force"), fill: "none", stroke: "#17653a", "stroke-width": 2.5, "stroke-dasharray": "6 3" }) : null,
    h("svg:path", { d: step("parties"), fill: "none", stroke: "#0b4f8a", "stroke-width": 2.5 }),
    h("svg:line", { x1: pad.left, x2: width - pad.right, y1: base, y2: base, stroke: "#4f5b69" }),
    markers,
    h("svg:line", { x1: ax, x2: ax, y1: pad.top - 4, y2: base, stroke: "#a3241c", "stroke-width": 2 }),
    h("svg:circle", { cx: ax, cy: y(at.parties), r: 4.5, fill: "#a3241c" }),
    h(
      "svg:text",
      { x: Math.min(ax + 6, width - pad.right - 4), y: pad.top + 10, "font-size": 12, "font-weight": 700, fill: "#a3241c", "text-anchor": ax + 120 > width ? "end" : "start" },
      `${fmtDate(asOf)}: ${at.parties}`,
    ),
  );
  svg.addEventListener("click", (event) => {
    if (event.target.closest("a")) return;
    const box = svg.getBoundingClientRect();
    const px = ((event.clientX - box.left) / box.width) * width;
    if (px < pad.left || px > width - pad.right) return;
    const picked = new Date(t0 + ((px - pad.left) / plotW) * (t1 - t0)).toISOString().slice(0, 10);
    onPick(picked);
  });
  const legend = h(
    "ul",
    { class: "legend" },
    h("li", {}, h("span", { class: "swatch parties" }), "parties"),
    hasInForce ? h("li", {}, h("span", { class: "swatch inforce" }), "in force for") : null,
    h("li", {}, h("span", { class: "swatch chosen" }), "the chosen date"),
    h("li", {}, h("svg:svg", { viewBox: "0 0 14 14", "aria-hidden": "true" }, h("svg:path", { d: "M7,1l6,6l-6,6l-6,-6z", fill: "#b7791f", stroke: "#7a4b00" })), "resolution about it"),
    h("li", {}, h("svg:svg", { viewBox: "0 0 14 14", "aria-hidden": "true" }, h("svg:circle", { cx: 7, cy: 7, r: 5, fill: "#fff", stroke: "#6b3fa0", "stroke-width": 2 })), "meeting of the States Parties"),
    h("li", {}, h("svg:svg", { viewBox: "0 0 14 14", "aria-hidden": "true" }, h("svg:circle", { cx: 7, cy: 7, r: 5, fill: "#6b3fa0" })), "review conference"),
  );
  fill(figure, svg, legend, h("figcaption", {}, summary, " Click the chart to pick a date."));
}

function meetingMarkers(recorded, resolutions) {
  // Meetings recorded as events, then those the resolutions list (placed mid-year when only the year is known).
  const byKey = new Map();
  for (const m of recorded) {
    byKey.set(`${m.kind}|${m.ordinal}`, { ...m, date: m.start, label: `${fmtDate(m.start)} to ${fmtDate(m.end)}` });
  }
  for (const r of resolutions) {
    for (const m of r.meetings || []) {
      const key = `${m.kind}|${m.ordinal}`;
      const date = m.start || (m.year ? `${m.year}-07-01` : null);
      if (!date || byKey.has(key)) continue;
      byKey.set(key, { ...m, date, label: m.start ? `${fmtDate(m.start)} to ${fmtDate(m.end || m.start)}` : String(m.year) });
    }
  }
  return [...byKey.values()].sort((a, b) => (a.date < b.date ? -1 : 1));
}

function consentCell(p) {
  if (!p.consent) return h("span", { class: "muted" }, "—");
  return [time(p.consent.date), h("span", { class: "sub" }, actionName(p.consent.action))];
}

function withdrawalCell(p) {
  if (!p.withdrawal) return h("span", { class: "muted" }, "—");
  return [
    time(p.withdrawal.date),
    h("span", { class: "sub" }, p.withdrawal.effective_on ? `effective ${fmtDate(p.withdrawal.effective_on)}` : "effective date unknown"),
  ];
}

const SORT_VALUES = {
  name: (p) => p.name || p.participant,
  status: (p) => p.status || "",
  signature: (p) => p.signature || null,
  consent: (p) => (p.consent ? p.consent.date : null),
  in_force_on: (p) => p.in_force_on || null,
  withdrawal: (p) => (p.withdrawal ? p.withdrawal.date : null),
};

function participantsTable(state) {
  const table = $("#participants");
  const needle = $("#filter").value.trim().toLowerCase();
  const wanted = $("#status").value;
  const value = SORT_VALUES[state.sort];
  const rows = state.items
    .filter((p) => !wanted || p.status === wanted)
    .filter((p) => !needle || `${p.name} ${p.participant}`.toLowerCase().includes(needle))
    .sort((a, b) => {
      const [va, vb] = [value(a), value(b)];
      if (va === vb) return (a.name || "").localeCompare(b.name || "");
      if (va === null) return 1; // missing dates last, whichever the direction
      if (vb === null) return -1;
      return (va < vb ? -1 : 1) * state.direction;
    });
  for (const th of table.querySelectorAll("th")) {
    const key = th.querySelector("button").dataset.key;
    if (key === state.sort) th.setAttribute("aria-sort", state.direction > 0 ? "ascending" : "descending");
    else th.removeAttribute("aria-sort");
  }
  fill(
    table.tBodies[0],
    rows.map((p) =>
      h(
        "tr",
        {},
        h("td", {}, h("a", { href: participantUrl(p.participant) }, p.name || p.participant), h("span", { class: "sub id" }, p.participant)),
        h("td", {}, badge(p.status)),
        h("td", {}, time(p.signature)),
        h("td", {}, consentCell(p)),
        h("td", {}, p.in_force_on ? time(p.in_force_on) : h("span", { class: "muted" }, p.consent ? "unknown" : "—")),
        h("td", {}, withdrawalCell(p)),
      ),
    ),
    rows.length === 0 ? h("tr", {}, h("td", { colspan: 6, class: "muted" }, "No participant matches.")) : null,
  );
  $("#shown").textContent = `Showing ${rows.length} of ${state.items.length} participants on ${fmtDate(state.asOf)}`;
}

async function treatyPage() {
  const treatyId = pathTail("/ui/treaties/");
  const base = `/v1/treaties/${enc(treatyId)}`;
  const state = { items: [], sort: "name", direction: 1, asOf: null };
  const [treaty, timeline, recorded, resolutionList] = await Promise.all([
    getJSON(base),
    getJSON(`${base}/timeline`),
    getJSON(`${base}/meetings`),
    getJSON(`/v1/resolutions?treaty_id=${enc(treatyId)}&limit=1000`),
  ]);
  const title = treaty.short_title || treaty.title || treatyId;
  setTitle(title);
  fill("#title", title);
  fill("#subtitle", treaty.short_title ? treaty.title : "", treaty.registered ? "" : " This treaty has recorded actions but was never registered, so its rules are unknown.");
  const fact = (label, ...value) => h("div", {}, h("dt", {}, label), h("dd", {}, ...value));
  fill(
    "#facts",
    fact("UNTC id", h("span", { class: "mono" }, treatyId)),
    treaty.unts ? fact("UN Treaty Series", `vol. ${treaty.unts.volume}, No. ${treaty.unts.number}`) : null,
    treaty.adopted ? fact("Adopted", treaty.adopted.place ? `${treaty.adopted.place}, ` : "", time(treaty.adopted.date)) : null,
    fact("Entered into force", treaty.entry_into_force ? time(treaty.entry_into_force) : h("span", { class: "muted" }, "not known")),
    treaty.depositary ? fact("Depositary", treaty.depositary) : null,
    fact("Participants on record", String(treaty.participants)),
    treaty.url ? fact("Source", h("a", { href: treaty.url, rel: "external noopener" }, "UN Treaty Collection")) : null,
  );
  fill("#rules", describeRules(treaty.rules));
  const resolutions = resolutionList.items.filter((r) => r.adopted_on).sort((a, b) => (a.adopted_on < b.adopted_on ? -1 : 1));
  const full = await Promise.all(resolutions.map((r) => getJSON(`/v1/resolutions/${enc(r.symbol)}`).catch(() => r)));
  const meetings = meetingMarkers(recorded.items, full);
  fill(
    "#resolutions",
    resolutions.map((r) => h("li", {}, h("a", { href: resolutionUrl(r.symbol) }, r.symbol), ` — ${r.title || ""} (`, time(r.adopted_on), ")")),
    resolutions.length === 0 ? h("li", { class: "muted" }, "No resolution about this treaty is recorded.") : null,
  );

  const figure = $("#chart");
  const chart = () =>
    drawChart(figure, { treatyId, points: timeline.points, resolutions, meetings, asOf: state.asOf, onPick: (d) => pick(d) });
  let generation = 0;
  const load = async (asOf) => {
    const mine = ++generation;
    document.body.dataset.ready = "loading";
    const [stats, participants, reports] = await Promise.all([
      getJSON(`${base}/stats?as_of=${asOf}`),
      getJSON(`${base}/participants?as_of=${asOf}`),
      getJSON(`${base}/reports?as_of=${asOf}&overdue=true`),
    ]);
    if (mine !== generation) return; // a later date was picked meanwhile
    state.asOf = asOf;
    state.items = participants.items;
    const show = (id, value) => ($(id).textContent = value === null || value === undefined ? "unknown" : String(value));
    show("#stat-parties", stats.parties);
    show("#stat-in-force", stats.in_force);
    show("#stat-signatories", stats.signatories);
    show("#stat-withdrawn", stats.withdrawn);
    const unrecorded = reports.reporting && !reports.recorded;
    if (unrecorded) fill("#stat-overdue", h("small", {}, noneRecorded(reports.due_count)));
    else show("#stat-overdue", reports.reporting ? reports.overdue_count : null);
    $("#stat-overdue-label").textContent = unrecorded ? "so no party is called overdue" : "parties with an overdue report";
    participantsTable(state);
    chart();
    jsonLinks([
      ["participants", `${base}/participants?as_of=${asOf}`],
      ["treaty", base],
      ["stats", `${base}/stats?as_of=${asOf}`],
      ["timeline", `${base}/timeline`],
      ["overdue reports", `${base}/reports?as_of=${asOf}&overdue=true`],
      ["resolutions", `/v1/resolutions?treaty_id=${enc(treatyId)}`],
    ]);
    document.body.dataset.ready = asOf;
  };
  const input = asOfControl((asOf) => load(asOf).catch(showError));
  const pick = (asOf) => {
    input.value = asOf;
    input.dispatchEvent(new Event("change"));
  };
  $("#filter").addEventListener("input", () => participantsTable(state));
  $("#status").addEventListener("change", () => participantsTable(state));
  for (const button of document.querySelectorAll("#participants th button")) {
    button.addEventListener("click", () => {
      const key = button.dataset.key;
      state.direction = state.sort === key ? -state.direction : 1;
      state.sort = key;
      participantsTable(state);
    });
  }
  let resizing;
  window.addEventListener("resize", () => {
    clearTimeout(resizing);
    resizing = setTimeout(() => state.asOf && chart(), 150);
  });
  await load(input.value);
}

// ---------------------------------------------------------------- participant

async function participantPage() {
  const key = pathTail("/ui/participants/");
  const base = `/v1/participants/${enc(key)}`;
  let generation = 0;
  const load = async (asOf) => {
    const mine = ++generation;
    document.body.dataset.ready = "loading";
    // Every treaty's reports, not only the overdue: a treaty with none recorded has none overdue, yet is shown.
    const [who, reports] = await Promise.all([getJSON(`${base}?as_of=${asOf}`), getJSON(`${base}/reports?as_of=${asOf}`)]);
    if (mine !== generation) return;
    setTitle(who.name);
    fill("#title", who.name);
    fill("#subtitle", who.participant !== who.name ? h("span", { class: "mono" }, who.participant) : "", ` · has acted on ${plural(who.count, "treaty", "treaties")} by ${fmtDate(asOf)}`);
    $("#stat-party").textContent = who.party;
    $("#stat-signatory").textContent = who.signatory;
    $("#stat-withdrawn").textContent = who.withdrawn;
    const known = reports.items.filter((t) => t.recorded);
    const unknown = reports.items.filter((t) => !t.recorded);
    const overdue = known.reduce((n, t) => n + t.overdue.length, 0);
    const due = unknown.reduce((n, t) => n + t.due_count, 0);
    // A treaty with no report recorded counts apart: its reports are due, not known to be overdue.
    fill(
      "#stat-overdue",
      known.length || !unknown.length ? String(overdue) : null,
      unknown.length ? h("small", {}, `${known.length ? " + " : ""}${noneRecorded(due)}`) : null,
    );
    $("#stat-overdue-label").textContent = unknown.length && !known.length ? "so none is called overdue" : "overdue reports";
    const shown = reports.items.filter((t) => !t.recorded || t.overdue.length);
    fill(
      "#treaties tbody",
      who.items.map((t) =>
        h(
          "tr",
          {},
          h("td", {}, h("a", { href: treatyUrl(t.treaty_id, asOf === today() ? null : asOf) }, t.short_title || t.title || t.treaty_id), h("span", { class: "sub id" }, t.treaty_id)),
          h("td", {}, badge(t.status)),
          h("td", {}, time(t.signature)),
          h("td", {}, consentCell(t)),
          h("td", {}, t.in_force_on ? time(t.in_force_on) : h("span", { class: "muted" }, t.consent ? "unknown" : "—")),
          h("td", {}, withdrawalCell(t)),
        ),
      ),
      who.items.length === 0 ? h("tr", {}, h("td", { colspan: 6, class: "muted" }, "No recorded action by this date.")) : null,
    );
    fill(
      "#reports",
      shown.length === 0
        ? h("p", { class: "muted" }, "No report is overdue under the treaties whose reporting rule the registry knows.")
        : shown.map((t) => {
            const treaty = h("a", { href: treatyUrl(t.treaty_id) }, t.short_title || t.title || t.treaty_id);
            if (!t.recorded) {
              return h(
                "div",
                {},
                h("h3", {}, treaty, ` — ${noneRecorded(t.due_count)}`),
                h("p", { class: "muted" }, `The registry holds no report of this kind from any party to ${t.treaty_id}, so it calls none of these ${plural(t.due_count, "report")} overdue.`),
              );
            }
            const late = t.reports.filter((r) => r.overdue);
            return h(
              "div",
              {},
              h("h3", {}, treaty, ` — ${late.length} overdue`),
              h(
                "ul",
                { class: "chips", "aria-label": `Overdue reports under ${t.treaty_id}` },
                late.map((r) => h("li", {}, r.period === "initial" ? "initial report" : `update for ${r.period}`, ", due ", time(r.due_on))),
              ),
            );
          }),
    );
    jsonLinks([
      ["participant", `${base}?as_of=${asOf}`],
      ["reports", `${base}/reports?as_of=${asOf}`],
    ]);
    document.body.dataset.ready = asOf;
  };
  const input = asOfControl((asOf) => load(asOf).catch(showError));
  await load(input.value);
}

// ---------------------------------------------------------------- resolution

const CLAIM_KINDS = {
  parties_count: "States that have ratified or acceded",
  entry_into_force_year: "Year of entry into force",
  entry_into_force_date: "Date of entry into force",
};

function claimItem(claim) {
  const verdict = claim.verified === true ? "verified" : claim.verified === false ? "contradicted" : "unchecked";
  const asOf = claim.as_of;
  return h(
    "li",
    { class: verdict },
    h("p", {}, h("span", { class: `badge ${verdict}` }, { verified: "✓ Verified", contradicted: "✗ Contradicted", unchecked: "Not checked" }[verdict]), " ", h("b", {}, CLAIM_KINDS[claim.kind] || actionName(claim.kind))),
    claim.text ? h("blockquote", {}, claim.text) : null,
    h(
      "p",
      { class: "numbers" },
      h("span", {}, "The resolution says ", h("b", {}, String(claim.value))),
      claim.found !== undefined ? h("span", {}, "the registry finds ", h("b", {}, String(claim.found))) : null,
      asOf ? h("span", {}, "as of ", time(asOf)) : null,
      claim.treaty_id ? h("a", { href: treatyUrl(claim.treaty_id, asOf) }, `see ${claim.treaty_id} on that date`) : null,
    ),
    claim.reason ? h("p", { class: "muted" }, claim.reason) : null,
  );
}

function chainItems(resolution) {
  const nodes = resolution.citation_chain.map((n) => ({
    symbol: n.symbol,
    date: n.adopted_on || n.date || null,
    title: n.title,
    known: n.known,
    note: n.depth === 1 ? "recalled by this resolution" : `recalled ${n.depth} steps back`,
    cls: n.known ? "known" : "",
  }));
  nodes.push({ symbol: resolution.symbol, date: resolution.adopted_on, title: resolution.title, known: true, note: "this resolution", cls: "self" });
  nodes.sort((a, b) => (a.date || "9999") .localeCompare(b.date || "9999"));
  const later = resolution.recalled_by.map((symbol) => ({ symbol, date: null, known: true, note: "recalls this resolution", cls: "later" }));
  return [...nodes, ...later].map((n) =>
    h(
      "li",
      { class: n.cls },
      n.date ? time(n.date) : null,
      n.known && n.cls !== "self" ? h("a", { href: resolutionUrl(n.symbol) }, n.symbol) : h("b", {}, n.symbol),
      h("span", { class: "sub" }, n.title ? `${n.title} · ` : "", n.note, n.known ? "" : " · not in the registry yet"),
    ),
  );
}

async function resolutionPage() {
  const symbol = pathTail("/ui/resolutions/");
  const url = `/v1/resolutions/${enc(symbol)}`;
  jsonLinks([["resolution", url]]);
  const r = await getJSON(url);
  setTitle(r.symbol);
  fill("#title", r.symbol);
  fill("#subtitle", r.title);
  const fact = (label, ...value) => h("div", {}, h("dt", {}, label), h("dd", {}, ...value));
  fill(
    "#facts",
    fact("Session", String(r.session)),
    r.agenda_item ? fact("Agenda item", r.agenda_item) : null,
    fact("Adopted", time(r.adopted_on)),
    r.plenary_meeting ? fact("Plenary meeting", `${r.plenary_meeting}th`) : null,
    r.committee ? fact("On the report of", r.committee, r.report_symbol ? ` (${r.report_symbol})` : "") : null,
    r.issued_on ? fact("Issued", time(r.issued_on)) : null,
    r.treaty
      ? fact("Treaty", r.treaty.treaty_id ? h("a", { href: treatyUrl(r.treaty.treaty_id) }, r.treaty.treaty_id) : "not identified", r.treaty.unts_volume ? ` · UNTS vol. ${r.treaty.unts_volume}, No. ${r.treaty.unts_number}` : "")
      : null,
  );
  fill("#claims", r.claims.map(claimItem), r.claims.length === 0 ? h("li", { class: "muted" }, "The parser found no factual claim to check.") : null);
  fill("#chain", chainItems(r));
  fill(
    "#paragraphs",
    r.paragraphs.map((p) => {
      const rest = p.text.startsWith(p.verb) ? p.text.slice(p.verb.length) : ` ${p.text}`;
      return h("li", { value: p.number }, h("em", {}, p.verb), rest);
    }),
  );
  fill("#preamble", (r.preamble || []).map((p) => h("li", {}, h("em", {}, p.verb), p.text.startsWith(p.verb) ? p.text.slice(p.verb.length) : ` ${p.text}`)));
  fill(
    "#meetings",
    (r.meetings || []).map((m) => h("li", {}, `${meetingName(m)}, ${m.place || "place unknown"}, `, m.start ? [time(m.start), m.end ? [" to ", time(m.end)] : ""] : String(m.year || ""), m.report_symbol ? ` · report ${m.report_symbol}` : "")),
  );
  $("#meetings-box").hidden = !(r.meetings || []).length;
  document.body.dataset.ready = "ready";
}

const PAGES = { home: homePage, treaty: treatyPage, participant: participantPage, resolution: resolutionPage };

async function start() {
  const q = new URLSearchParams(location.search).get("q");
  if (q && $("#site-q")) $("#site-q").value = q;
  try {
    await PAGES[document.body.dataset.page]();
    if (document.body.dataset.ready !== "error" && document.body.dataset.page === "home") document.body.dataset.ready = "ready";
  } catch (error) {
    showError(error);
  }
}

start();
