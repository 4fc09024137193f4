// The participant page: every treaty a State has acted on, its status in each on a chosen date, its overdue reports.
import { asOfControl } from "./asof.js";
import { enc, getAll, getJSON } from "./api.js";
import { jsonLinks, pathTail, setTitle, showError, start } from "./chrome.js";
import { $, fill, h } from "./dom.js";
import { csvLink, fmtDate, plural, time, today, treatyUrl } from "./format.js";
import { noneRecorded, statusCells } from "./status.js";

// A treaty with no report recorded counts apart: its reports are due, not known to be overdue.
function showOverdue(reports) {
  const known = reports.items.filter((t) => t.recorded);
  const unknown = reports.items.filter((t) => !t.recorded);
  const overdue = known.reduce((n, t) => n + t.overdue.length, 0);
  const due = unknown.reduce((n, t) => n + t.due_count, 0);
  fill(
    "#stat-overdue",
    known.length || !unknown.length ? String(overdue) : null,
    unknown.length ? h("small", {}, `${known.length ? " + " : ""}${noneRecorded(due)}`) : null,
  );
  $("#stat-overdue-label").textContent = unknown.length && !known.length ? "so none is called overdue" : "overdue reports";
}

function reportsOf(t) {
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
}

async function participantPage() {
  const key = pathTail("/ui/participants/");
  const base = `/v1/participants/${enc(key)}`;
  let generation = 0;
  const load = async (asOf) => {
    const mine = ++generation;
    document.body.dataset.ready = "loading";
    // Every treaty's reports, not only the overdue: a treaty with none recorded has none overdue, yet is shown.
    const [who, reports] = await Promise.all([getAll(`${base}?as_of=${asOf}`), getAll(`${base}/reports?as_of=${asOf}`)]);
    if (mine !== generation) return;
    setTitle(who.name);
    fill("#title", who.name);
    fill("#subtitle", who.participant !== who.name ? h("span", { class: "mono" }, who.participant) : "", ` · has acted on ${plural(who.count, "treaty", "treaties")} by ${fmtDate(asOf)}`);
    $("#stat-party").textContent = who.party;
    $("#stat-signatory").textContent = who.signatory;
    $("#stat-withdrawn").textContent = who.withdrawn;
    showOverdue(reports);
    fill(
      "#treaties tbody",
      who.items.map((t) =>
        h(
          "tr",
          {},
          h("td", {}, h("a", { href: treatyUrl(t.treaty_id, asOf === today() ? null : asOf) }, t.short_title || t.title || t.treaty_id), h("span", { class: "sub id" }, t.treaty_id)),
          statusCells(t),
        ),
      ),
      who.items.length === 0 ? h("tr", {}, h("td", { colspan: 6, class: "muted" }, "No recorded action by this date.")) : null,
    );
    const shown = reports.items.filter((t) => !t.recorded || t.overdue.length);
    fill(
      "#reports",
      shown.length === 0 ? h("p", { class: "muted" }, "No report is overdue under the treaties whose reporting rule the registry knows.") : shown.map(reportsOf),
    );
    fill("#treaties-download", csvLink(`${base}?as_of=${asOf}`, `its treaties on ${fmtDate(asOf)}`));
    fill("#reports-download", csvLink(`${base}/reports?as_of=${asOf}`, `its reports due by ${fmtDate(asOf)}`));
    jsonLinks([
      ["participant", `${base}?as_of=${asOf}`],
      ["reports", `${base}/reports?as_of=${asOf}`],
    ]);
    document.body.dataset.ready = asOf;
  };
  fill("#feed", h("a", { href: `${base}/feed.atom`, type: "application/atom+xml" }, "Atom feed of the actions recorded"));
  const input = asOfControl((asOf) => load(asOf).catch(showError));
  await load(input.value);
}

start(participantPage);
