// The treaty page: its numbers on a chosen date, the chart over time, its rules, participants and resolutions.
import { asOfControl } from "./asof.js";
import { enc, getAll, getJSON } from "./api.js";
import { drawChart } from "./chart.js";
import { claimsTable, loadClaims } from "./claims.js";
import { jsonLinks, pathTail, setTitle, showError, start } from "./chrome.js";
import { $, fill, h } from "./dom.js";
import { csvLink, fmtDate, participantUrl, resolutionUrl, time, webUrl } from "./format.js";
import { noneRecorded, statusCells } from "./status.js";

// The rules as the registry writes them in words (`rules_explained`), each with its article; "unknown" for the others.
const RULE_NAMES = [
  [["entry_into_force"], "Entry into force"],
  [["later_participants"], "For a participant joining later"],
  [["withdrawal", "withdrawal_terms"], "Withdrawal"],
  [["reporting"], "Reporting"],
];
const capitalise = (text) => text.charAt(0).toUpperCase() + text.slice(1);

function describeRules(treaty) {
  if (!treaty.rules_explained.length) {
    return [h("li", { class: "muted" }, "The registry knows none of this treaty's rules, so it does not compute when it is in force.")];
  }
  return RULE_NAMES.map(([rules, name]) => {
    const part = treaty.rules_explained.find((p) => rules.includes(p.rule));
    if (!part) return h("li", {}, `${name}: `, h("span", { class: "muted" }, "unknown to the registry"));
    return h("li", { "data-rule": part.rule }, capitalise(part.words), part.source ? h("span", { class: "source" }, ` (${part.source})`) : null);
  });
}

// The treaty's entry into force: the date and where it comes from, or why there is none ("unknown" without a rule).
function entryIntoForce(treaty) {
  const dates = treaty.entry_into_force_dates;
  const notified = treaty.stated_entry_into_force;
  const notice = notified && notified.notification
    ? h("span", { class: "sub" }, "notification ", h("span", { class: "mono cn" }, notified.notification), " states ", time(notified.date))
    : null;
  if (treaty.entry_into_force) {
    const disagrees = dates.shown === "computed" && dates.stated && dates.stated !== dates.computed;
    return [
      time(treaty.entry_into_force),
      h("span", { class: "sub" }, dates.shown === "stated" ? "as the depositary states" : "computed from the deposits recorded"),
      disagrees ? h("span", { class: "sub warn" }, "the depositary states ", time(dates.stated)) : null,
      notice,
    ];
  }
  const ruled = treaty.rules && treaty.rules.entry_into_force;
  return [ruled ? "not in force" : "unknown", h("span", { class: "sub" }, dates.reason)];
}

// Meetings recorded as events, then those the resolutions list (placed mid-year when only the year is known).
function meetingMarkers(recorded, resolutions) {
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
        statusCells(p),
      ),
    ),
    rows.length === 0 ? h("tr", {}, h("td", { colspan: 6, class: "muted" }, "No participant matches.")) : null,
  );
  $("#shown").textContent = `Showing ${rows.length} of ${state.items.length} participants on ${fmtDate(state.asOf)}`;
}

function treatyFacts(treatyId, treaty) {
  const fact = (label, ...value) => h("div", {}, h("dt", {}, label), h("dd", {}, ...value));
  // An id of the registry's own ("ext:npt") names a treaty deposited elsewhere than with the Secretary-General.
  const own = treatyId.startsWith("ext:");
  const untc = /^https?:\/\/treaties\.un\.org\//i.test(treaty.url || "");
  return [
    fact(own ? "Registry id" : "UNTC id", h("span", { class: "mono" }, treatyId)),
    treaty.unts ? fact("UN Treaty Series", `vol. ${treaty.unts.volume}, No. ${treaty.unts.number}`) : null,
    treaty.adopted ? fact("Adopted", treaty.adopted.place ? `${treaty.adopted.place}, ` : "", time(treaty.adopted.date)) : null,
    fact("Entry into force", entryIntoForce(treaty)),
    treaty.depositary ? fact("Depositary", treaty.depositary) : null,
    fact("Participants on record", String(treaty.participants)),
    webUrl(treaty.url) ? fact("Source", h("a", { href: treaty.url, rel: "external noopener" }, untc ? "UN Treaty Collection" : "the treaty's text")) : null,
  ];
}

function showStats(stats, reports) {
  const show = (id, value) => ($(id).textContent = value === null || value === undefined ? "unknown" : String(value));
  show("#stat-parties", stats.parties);
  show("#stat-in-force", stats.in_force);
  show("#stat-signatories", stats.signatories);
  show("#stat-withdrawn", stats.withdrawn);
  const unrecorded = reports.reporting && !reports.recorded;
  if (unrecorded) fill("#stat-overdue", h("small", {}, noneRecorded(reports.due_count)));
  else show("#stat-overdue", reports.reporting ? reports.overdue_count : null);
  $("#stat-overdue-label").textContent = unrecorded ? "so no party is called overdue" : "parties with an overdue report";
}

async function treatyPage() {
  const treatyId = pathTail("/ui/treaties/");
  const base = `/v1/treaties/${enc(treatyId)}`;
  const state = { items: [], sort: "name", direction: 1, asOf: null };
  const [treaty, timeline, recorded, resolutionList] = await Promise.all([
    getJSON(base),
    getJSON(`${base}/timeline`),
    getAll(`${base}/meetings`),
    getJSON(`/v1/resolutions?treaty_id=${enc(treatyId)}&limit=1000`),
  ]);
  const title = treaty.short_title || treaty.title || treatyId;
  setTitle(title);
  fill("#title", title);
  fill("#subtitle", treaty.short_title ? treaty.title : "", treaty.registered ? "" : " This treaty has recorded actions but was never registered, so its rules are unknown.");
  fill("#facts", treatyFacts(treatyId, treaty));
  fill("#warnings", treaty.warnings.map((w) => h("li", {}, w)));
  $("#warnings-box").hidden = treaty.warnings.length === 0;
  fill("#rules", describeRules(treaty));
  fill("#timeline-download", csvLink(`${base}/timeline`, "the counts over time"));
  fill("#feed", h("a", { href: `${base}/feed.atom`, type: "application/atom+xml" }, "Atom feed of the actions recorded"));
  const resolutions = resolutionList.items.filter((r) => r.adopted_on).sort((a, b) => (a.adopted_on < b.adopted_on ? -1 : 1));
  const [full, claims] = await Promise.all([
    Promise.all(resolutions.map((r) => getJSON(`/v1/resolutions/${enc(r.symbol)}`).catch(() => r))),
    loadClaims(base),
  ]);
  claimsTable(claims, base);
  const meetings = meetingMarkers(recorded.items, full);
  fill(
    "#resolutions",
    resolutions.map((r) => h("li", {}, h("a", { href: resolutionUrl(r.symbol) }, r.symbol), ` — ${r.title || ""} (`, time(r.adopted_on), ")")),
    resolutions.length === 0 ? h("li", { class: "muted" }, "No resolution about this treaty is recorded.") : null,
  );

  const chart = () =>
    drawChart($("#chart"), { treatyId, points: timeline.points, resolutions, meetings, claims, asOf: state.asOf, onPick: (d) => pick(d) });
  let generation = 0;
  const load = async (asOf) => {
    const mine = ++generation;
    document.body.dataset.ready = "loading";
    const [stats, participants, reports] = await Promise.all([
      getJSON(`${base}/stats?as_of=${asOf}`),
      getAll(`${base}/participants?as_of=${asOf}`),
      getJSON(`${base}/reports?as_of=${asOf}&overdue=true`),
    ]);
    if (mine !== generation) return; // a later date was picked meanwhile
    state.asOf = asOf;
    state.items = participants.items;
    showStats(stats, reports);
    participantsTable(state);
    fill("#participants-download", csvLink(`${base}/participants?as_of=${asOf}`, `every participant on ${fmtDate(asOf)}`));
    fill("#reports-download", reports.reporting ? csvLink(`${base}/reports?as_of=${asOf}`, `the reports due by ${fmtDate(asOf)}`, true) : null);
    chart();
    jsonLinks([
      ["participants", `${base}/participants?as_of=${asOf}`],
      ["treaty", base],
      ["stats", `${base}/stats?as_of=${asOf}`],
      ["timeline", `${base}/timeline`],
      ["overdue reports", `${base}/reports?as_of=${asOf}&overdue=true`],
      ["resolutions", `/v1/resolutions?treaty_id=${enc(treatyId)}`],
      ["claims", `${base}/claims`],
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

start(treatyPage);
