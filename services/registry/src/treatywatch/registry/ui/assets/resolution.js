// The resolution page: its facts, the claims checked against the record, what it recalls and says.
import { enc, getJSON } from "./api.js";
import { jsonLinks, pathTail, setTitle, start } from "./chrome.js";
import { VERDICTS, claimLabel, verdictOf } from "./claims.js";
import { $, fill, h } from "./dom.js";
import { csvLink, meetingName, resolutionUrl, time, treatyUrl } from "./format.js";

function claimItem(claim) {
  const verdict = verdictOf(claim);
  const asOf = claim.as_of;
  return h(
    "li",
    { class: verdict },
    h("p", {}, h("span", { class: `badge ${verdict}` }, VERDICTS[verdict]), " ", h("b", {}, claimLabel(claim))),
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

// What the resolution recalls, oldest first, then itself in its place, then those that recall it.
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
  nodes.sort((a, b) => (a.date || "9999").localeCompare(b.date || "9999"));
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

function resolutionFacts(r) {
  const fact = (label, ...value) => h("div", {}, h("dt", {}, label), h("dd", {}, ...value));
  return [
    fact("Session", String(r.session)),
    r.agenda_item ? fact("Agenda item", r.agenda_item) : null,
    fact("Adopted", time(r.adopted_on)),
    r.plenary_meeting ? fact("Plenary meeting", `${r.plenary_meeting}th`) : null,
    r.committee ? fact("On the report of", r.committee, r.report_symbol ? ` (${r.report_symbol})` : "") : null,
    r.issued_on ? fact("Issued", time(r.issued_on)) : null,
    r.treaty
      ? fact("Treaty", r.treaty.treaty_id ? h("a", { href: treatyUrl(r.treaty.treaty_id) }, r.treaty.treaty_id) : "not identified", r.treaty.unts_volume ? ` · UNTS vol. ${r.treaty.unts_volume}, No. ${r.treaty.unts_number}` : "")
      : null,
  ];
}

// A paragraph's text after its opening verb, which is shown in italics.
const afterVerb = (p) => (p.text.startsWith(p.verb) ? p.text.slice(p.verb.length) : ` ${p.text}`);

async function resolutionPage() {
  const symbol = pathTail("/ui/resolutions/");
  const url = `/v1/resolutions/${enc(symbol)}`;
  jsonLinks([["resolution", url]]);
  const r = await getJSON(url);
  setTitle(r.symbol);
  fill("#title", r.symbol);
  fill("#subtitle", r.title);
  fill("#facts", resolutionFacts(r));
  fill("#claims", r.claims.map(claimItem), r.claims.length === 0 ? h("li", { class: "muted" }, "The parser found no factual claim to check.") : null);
  fill("#claims-download", r.claims.length ? csvLink(url, "its claims") : null);
  fill("#chain", chainItems(r));
  fill("#paragraphs", r.paragraphs.map((p) => h("li", { value: p.number }, h("em", {}, p.verb), afterVerb(p))));
  fill("#preamble", (r.preamble || []).map((p) => h("li", {}, h("em", {}, p.verb), afterVerb(p))));
  fill(
    "#meetings",
    (r.meetings || []).map((m) => h("li", {}, `${meetingName(m)}, ${m.place || "place unknown"}, `, m.start ? [time(m.start), m.end ? [" to ", time(m.end)] : ""] : String(m.year || ""), m.report_symbol ? ` · report ${m.report_symbol}` : "")),
  );
  $("#meetings-box").hidden = !(r.meetings || []).length;
}

start(resolutionPage);
