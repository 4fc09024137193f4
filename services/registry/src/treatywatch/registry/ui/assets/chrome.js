// What every page shares around its content (the layout the registry serves): the title, the site search, the
// footer's JSON links, errors, and starting the page's own code.
import { $, h } from "./dom.js";

export function setTitle(text) {
  document.title = `${text} · Treaty Watch`;
}

// The page's key in its URL: /ui/treaties/XXVI-5 gives "XXVI-5" for the prefix /ui/treaties/.
export const pathTail = (prefix) => decodeURIComponent(location.pathname.slice(prefix.length)).replace(/\/+$/, "");

// The footer names the JSON behind the page; the first link is the page's main data.
export function jsonLinks(links) {
  const [first, ...rest] = links;
  const primary = $("#json-link");
  primary.href = first[1];
  primary.textContent = `JSON (${first[0]})`;
  primary.parentElement.querySelectorAll(".more-json").forEach((el) => el.remove());
  let after = primary;
  for (const [label, url] of rest) {
    const link = h("span", { class: "more-json" }, " · ", h("a", { href: url }, `${label} JSON`));
    after.after(link);
    after = link;
  }
}

export function showError(error) {
  $("main").prepend(h("p", { class: "error", role: "alert" }, String(error.message || error)));
  document.body.dataset.ready = "error";
}

// Runs the page's code; body[data-ready] tells tests (and anyone waiting) it is done: "ready", a date, or "error".
export async function start(page) {
  const q = new URLSearchParams(location.search).get("q");
  if (q) $("#site-q").value = q;
  try {
    await page();
    if (!document.body.dataset.ready) document.body.dataset.ready = "ready";
  } catch (error) {
    showError(error);
  }
}
