// Building the page: nodes made one by one, never HTML strings, so the registry's data is always text.

const SVG = "http://www.w3.org/2000/svg";

export const $ = (selector) => document.querySelector(selector);

// h("a", {href: "/x", class: "y"}, "text", child): an element; null and false children are skipped.
export function h(tag, attrs = {}, ...children) {
  const svg = tag.startsWith("svg:");
  const el = svg ? document.createElementNS(SVG, tag.slice(4)) : document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

// Replaces the children of `target` (an element or a selector) with `children`, skipping null and false.
export function fill(target, ...children) {
  const el = typeof target === "string" ? $(target) : target;
  el.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return el;
}
