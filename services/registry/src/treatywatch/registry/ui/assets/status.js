// A participant's status under a treaty, as the treaty's and the participant's tables both show it.
import { h } from "./dom.js";
import { actionName, fmtDate, time } from "./format.js";

const badge = (status) => h("span", { class: `badge ${status || "none"}` }, status || "no status");
// Where no report of a treaty's kind was ever recorded the registry cannot say which are overdue, only how many are due.
export const noneRecorded = (due) => `no reports recorded (${due} due)`;

const dash = () => h("span", { class: "muted" }, "—");

function consentCell(p) {
  if (!p.consent) return dash();
  return [time(p.consent.date), h("span", { class: "sub" }, actionName(p.consent.action))];
}

function withdrawalCell(p) {
  if (!p.withdrawal) return dash();
  return [
    time(p.withdrawal.date),
    h("span", { class: "sub" }, p.withdrawal.effective_on ? `effective ${fmtDate(p.withdrawal.effective_on)}` : "effective date unknown"),
  ];
}

// The status, signature, consent, in force and withdrawal cells of one row.
export const statusCells = (p) => [
  h("td", {}, badge(p.status)),
  h("td", {}, time(p.signature)),
  h("td", {}, consentCell(p)),
  h("td", {}, p.in_force_on ? time(p.in_force_on) : h("span", { class: "muted" }, p.consent ? "unknown" : "—")),
  h("td", {}, withdrawalCell(p)),
];
