// The registry's JSON API: the only server the pages talk to.

class HttpError extends Error {}

export const enc = encodeURIComponent;

export async function getJSON(url) {
  const response = await fetch(url, { headers: { Accept: "application/json" } });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new HttpError(body.detail || `${url}: HTTP ${response.status}`);
  return body;
}

// A list the API answers page by page: every page's `items` in one answer (`count` of them all), following `next`.
export async function getAll(url) {
  const first = await getJSON(url);
  const items = [...first.items];
  for (let next = first.next; next; ) {
    const page = new URL(url, location.origin);
    page.searchParams.set("after", next);
    const body = await getJSON(`${page.pathname}${page.search}`);
    items.push(...body.items);
    next = body.next;
  }
  return { ...first, items, count: items.length, next: null };
}
