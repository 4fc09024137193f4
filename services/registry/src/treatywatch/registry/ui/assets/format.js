// Words, dates and links as every page writes them.
import { enc } from "./api.js";
import { h } from "./dom.js";

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const ORDINALS = ["First", "Second", "Third", "Fourth", "Fifth", "Sixth", "Seventh", "Eighth", "Ninth", "Tenth"];

export const fmtDate = (iso) => {
  if (!iso) return "";
  const [y, m, d] = iso.slice(0, 10).split("-").map(Number);
  return `${d} ${MONTHS[m - 1]} ${y}`;
};
export const time = (iso) => (iso ? h("time", { datetime: iso.slice(0, 10) }, fmtDate(iso)) : h("span", { class: "muted" }, "—"));
export const today = () => new Date().toISOString().slice(0, 10);
export const plural = (n, one, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
export const actionName = (action) => (action || "").replaceAll("_", " ");
const ordinalWord = (n) => ORDINALS[n - 1] || `${n}th`;

export function meetingName(m) {
  const kind = { msp: "Meeting of the States Parties", review_conference: "Review Conference" }[m.kind] || actionName(m.kind);
  return m.ordinal ? `${ordinalWord(m.ordinal)} ${kind}` : kind;
}

export const treatyUrl = (id, asOf) => `/ui/treaties/${enc(id)}${asOf ? `?as_of=${asOf}` : ""}`;
export const participantUrl = (code) => `/ui/participants/${enc(code)}`;
// A link from the data only where it is http(s): records from before the contract checked it may hold others.
export const webUrl = (url) => (/^https?:\/\//i.test(url || "") ? url : null);
export const resolutionUrl = (symbol) => `/ui/resolutions/${symbol.split("/").map(enc).join("/")}`;

// A link to download a table the API answers as CSV: `?format=csv` on its JSON URL. Beside its table the link says
// only "Download CSV" and names the table to a screen reader; away from one (`shown`), it names it to everyone.
export function csvLink(url, what, shown = false) {
  const csv = `${url}${url.includes("?") ? "&" : "?"}format=csv`;
  return h("a", { href: csv, class: "csv", download: "" }, "Download CSV", h("span", { class: shown ? null : "visually-hidden" }, ` of ${what}`));
}
