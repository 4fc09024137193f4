// Claims of resolutions checked against the record: their names and verdicts (the resolution page shows one
// resolution's), and the treaty page's table of every claim its resolutions make about it, oldest first.
import { getAll } from "./api.js";
import { CLAIM } from "./contract.js";
import { fill, h } from "./dom.js";
import { actionName, csvLink, resolutionUrl, time } from "./format.js";

export const CLAIM_LABELS = {
  [CLAIM.PARTIES_COUNT]: "States that have ratified or acceded",
  [CLAIM.ENTRY_INTO_FORCE_YEAR]: "Year of entry into force",
  [CLAIM.ENTRY_INTO_FORCE_DATE]: "Date of entry into force",
};
export const VERDICTS = { verified: "✓ Verified", contradicted: "✗ Contradicted", unchecked: "Not checked" };

export const verdictOf = (claim) => (claim.verified === true ? "verified" : claim.verified === false ? "contradicted" : "unchecked");
export const claimLabel = (claim) => CLAIM_LABELS[claim.kind] || actionName(claim.kind);

// Every claim the treaty's resolutions make about it (`/v1/treaties/{id}/claims`, all its pages).
export async function loadClaims(base) {
  return (await getAll(`${base}/claims?limit=1000`)).items;
}

function claimRow(claim) {
  const verdict = verdictOf(claim);
  const show = (value) => (value === null || value === undefined ? h("span", { class: "muted" }, "—") : String(value));
  return h(
    "tr",
    { class: verdict },
    h("td", {}, h("a", { href: resolutionUrl(claim.symbol) }, claim.symbol), h("span", { class: "sub" }, "adopted ", time(claim.adopted_on))),
    h("td", { class: "words" }, claimLabel(claim), claim.as_of !== claim.adopted_on ? h("span", { class: "sub" }, "as of ", time(claim.as_of)) : null),
    h("td", { class: "num" }, show(claim.claimed)),
    h("td", { class: "num" }, show(claim.found)),
    h("td", {}, h("span", { class: `badge ${verdict}` }, VERDICTS[verdict])),
    h("td", { class: "words" }, claim.reason ? claim.reason : h("span", { class: "muted" }, "—")),
  );
}

// The table of `claims` with its CSV download (`base` is the treaty's API path).
export function claimsTable(claims, base) {
  fill(
    "#treaty-claims tbody",
    claims.map(claimRow),
    claims.length === 0 ? h("tr", {}, h("td", { colspan: 6, class: "muted" }, "No resolution about this treaty makes a claim the registry checks.")) : null,
  );
  fill("#claims-download", claims.length ? csvLink(`${base}/claims?limit=1000`, "the claims and the record") : null);
}
