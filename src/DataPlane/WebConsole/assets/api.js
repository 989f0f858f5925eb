// Calls the server's public APIs with the token the person gave (kept in this tab's session storage only).
const KEY = 'dataplane.token';

export function token() { return sessionStorage.getItem(KEY) || ''; }
export function setToken(value) {
  if (value) sessionStorage.setItem(KEY, value); else sessionStorage.removeItem(KEY);
}

/** A refused or failed request: the HTTP status and the API's own reason. */
export class ApiError extends Error {
  constructor(status, message, body) { super(message); this.status = status; this.body = body; }
}

/** Every API's error shape: pipelines {"error": "..."}, catalog and databases {"error": {"message": "..."}}. */
function reason(status, json, text) {
  if (json && typeof json.error === 'string') return json.error;
  if (json && json.error && typeof json.error.message === 'string') return json.error.message;
  if (text) return text.slice(0, 400);
  return `HTTP ${status}`;
}

/** JSON with integers past 2^53 (Iceberg snapshot ids) kept exact, as their text. */
export function parseJson(text) {
  return JSON.parse(text, (key, value, context) =>
    typeof value === 'number' && !Number.isSafeInteger(value) && context && /^-?\d+$/.test(context.source) ? context.source : value);
}

export async function api(method, path, { body, headers, raw } = {}) {
  const h = { accept: 'application/json', ...(headers || {}) };
  const t = token();
  if (t) h.authorization = 'Bearer ' + t;
  let payload;
  if (body !== undefined) {
    h['content-type'] = 'application/json';
    payload = typeof body === 'string' ? body : JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, { method, headers: h, body: payload, cache: 'no-store' });
  } catch (e) {
    throw new ApiError(0, `The server did not answer (${e.message}); is dataplane serve running?`);
  }
  const text = res.status === 204 ? '' : await res.text();
  let json = null;
  try { json = text ? parseJson(text) : null; } catch { json = null; }
  if (!res.ok) throw new ApiError(res.status, reason(res.status, json, text), json);
  return raw ? { status: res.status, headers: res.headers, json } : json;
}

export const get = (path, options) => api('GET', path, options);
export const post = (path, body, options) => api('POST', path, { ...(options || {}), body });
export const del = (path) => api('DELETE', path);

/** One path segment, escaped. */
export const seg = (s) => encodeURIComponent(s);
/** An Iceberg namespace in a REST path: levels joined by the unit separator (0x1F), as the spec says. */
export const nsPath = (levels) => encodeURIComponent(levels.join('\u001f'));
