// The home page: search, the first treaties, and the latest events.
import { enc, getAll, getJSON } from "./api.js";
import { jsonLinks, showError, start } from "./chrome.js";
import { EVENT } from "./contract.js";
import { $, fill, h } from "./dom.js";
import { actionName, fmtDate, meetingName, participantUrl, resolutionUrl, time, treatyUrl } from "./format.js";

// How each event type is shown: a badge (its word and colour) and a sentence about its data.
const EVENTS = {
  [EVENT.TREATY_REGISTERED]: {
    badge: ["treaty", "none"],
    describe: (d) => ["Registered ", h("a", { href: treatyUrl(d.treaty_id) }, d.short_title || d.title)],
  },
  [EVENT.TREATY_ACTION_RECORDED]: {
    badge: ["action", "party"],
    describe: (d) => [
      h("a", { href: participantUrl(d.participant) }, d.participant_name || d.participant),
      ` — ${actionName(d.action)} of `,
      h("a", { href: treatyUrl(d.treaty_id) }, d.treaty_id),
      " on ",
      time(d.date),
      d.notification ? h("span", { class: "mono" }, ` (${d.notification})`) : null,
    ],
  },
  [EVENT.TREATY_ENTERED_INTO_FORCE]: {
    badge: ["in force", "party"],
    describe: (d) => [
      h("a", { href: treatyUrl(d.treaty_id) }, d.treaty_id),
      " entered into force on ",
      time(d.date),
      d.notification ? h("span", { class: "mono" }, ` (${d.notification})`) : null,
    ],
  },
  [EVENT.RESOLUTION_ADOPTED]: {
    badge: ["resolution", "signatory"],
    describe: (d) => [h("a", { href: resolutionUrl(d.symbol) }, d.symbol), " adopted on ", time(d.adopted_on)],
  },
  [EVENT.MEETING_RECORDED]: {
    badge: ["meeting", "none"],
    describe: (d) => [`${meetingName(d)}, ${d.place}, for `, h("a", { href: treatyUrl(d.treaty_id) }, d.treaty_id)],
  },
  [EVENT.REPORT_SUBMITTED]: {
    badge: ["report", "party"],
    describe: (d) => [
      h("a", { href: participantUrl(d.participant) }, d.participant),
      ` submitted its ${d.period} report on `,
      h("a", { href: treatyUrl(d.treaty_id) }, d.treaty_id),
    ],
  },
};

function eventItem(event) {
  const shown = EVENTS[event.type];
  const [kind, style] = shown ? shown.badge : ["event", "none"];
  return h(
    "li",
    {},
    h("span", { class: `badge kind ${style}` }, kind),
    h("span", {}, shown ? shown.describe(event.data || {}) : event.type),
    h("time", { datetime: event.applied_at }, `recorded ${fmtDate(event.applied_at)} ${event.applied_at.slice(11, 16)} UTC`),
  );
}

const treatyCard = (t) => [
  h("a", { href: treatyUrl(t.treaty_id) }, t.short_title || t.title || t.treaty_id),
  h("span", { class: "sub" }, h("span", { class: "id" }, t.treaty_id), t.short_title ? ` · ${t.title}` : ""),
];

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
    group("Treaties", found.treaties, treatyCard),
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
  const q = (new URLSearchParams(location.search).get("q") || "").trim();
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
    getAll("/v1/treaties"),
    getJSON("/v1/events/latest?limit=12"),
    renderSearch(q),
  ]);
  const shown = treaties.items.slice(0, 12);
  fill(
    "#treaties",
    shown.map((t) => h("li", {}, treatyCard(t))),
    treaties.count > shown.length ? h("li", { class: "muted" }, `and ${treaties.count - shown.length} more: search above`) : null,
    treaties.count === 0 ? h("li", { class: "muted" }, "No treaty is registered yet.") : null,
  );
  fill(
    "#events",
    events.items.map(eventItem),
    events.items.length === 0 ? h("li", { class: "muted" }, "No event has been applied yet.") : null,
  );
}

start(homePage);
