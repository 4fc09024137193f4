// A participant's status under a treaty, as the treaty's and the participant's tables both show it.
import { h } from "./dom.js";
import { actionName, fmtDate, time } from "./format.js";

const badge = (status) => h("span", { class: `badge ${status || "none"}` }, status || "no status");
// Where no report of a treaty's kind was ever recorded the registry cannot say which are overdue, only how many are due.
export const noneRecorded = (due) => `no reports recorded (${due} due)`;

const dash = () => h("span", { class: "muted" }, "—");

// The depositary notification that announced an act (its C.N. reference), from the participant's actions.
function notificationOf(p, action, date) {
  const act = (p.actions || []).find((a) => a.action === action && a.date === date && a.notification);
  return act ? h("span", { class: "sub mono cn" }, act.notification) : null;
}

function consentCell(p) {
  if (!p.consent) return dash();
  return [
    time(p.consent.date),
    h("span", { class: "sub" }, actionName(p.consent.action)),
    notificationOf(p, p.consent.action, p.consent.date),
  ];
}

// A date an event states (a depositary notification's claim), shown under the rules' date it differs from.
const stated = (label, iso) => h("span", { class: "sub warn" }, `${label} `, time(iso));

function withdrawalCell(p) {
  const w = p.withdrawal;
  if (!w) return dash();
  let effect = w.effective_on ? `effective ${fmtDate(w.effective_on)}` : "effective date unknown";
  if (w.provided_for === false) effect = w.effective_on ? `effective ${fmtDate(w.effective_on)}, as stated` : "not effective";
  return [
    time(w.date),
    h("span", { class: "sub" }, effect),
    notificationOf(p, "withdrawal", w.date),
    w.provided_for === false ? h("span", { class: "sub warn" }, "the treaty provides for no withdrawal") : null,
    w.stated_effective_on && w.rule_effective_on && w.stated_effective_on !== w.rule_effective_on
      ? stated("the rules give", w.rule_effective_on)
      : null,
  ];
}

function inForceCell(p) {
  const claim = p.stated_in_force_on && p.stated_in_force_on !== p.in_force_on ? stated("stated:", p.stated_in_force_on) : null;
  if (!p.in_force_on) return [h("span", { class: "muted" }, p.consent ? "unknown" : "—"), claim];
  return [time(p.in_force_on), claim];
}

// The status, signature, consent, in force and withdrawal cells of one row.
export const statusCells = (p) => [
  h("td", {}, badge(p.status)),
  h("td", {}, time(p.signature), notificationOf(p, "signature", p.signature)),
  h("td", {}, consentCell(p)),
  h("td", {}, inForceCell(p)),
  h("td", {}, withdrawalCell(p)),
];
