// The date a page shows numbers for: ?as_of= in the URL, else today. Changing it keeps the URL shareable.
import { $ } from "./dom.js";
import { today } from "./format.js";

export function asOfControl(onChange) {
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
