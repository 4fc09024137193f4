// The registry's JSON API: the only server the pages talk to.

class HttpError extends Error {}

export const enc = encodeURIComponent;

export async function getJSON(url) {
  const response = await fetch(url, { headers: { Accept: "application/json" } });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new HttpError(body.detail || `${url}: HTTP ${response.status}`);
  return body;
}
