// The gateway's HTTP API, as the console calls it: same origin, bearer token from
// sessionStorage (this tab only; never localStorage, a cookie or a URL).

const TOKEN_KEY = "gw.console.token";

export function getToken() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(token) {
  sessionStorage.setItem(TOKEN_KEY, token);
}

export function clearToken() {
  sessionStorage.removeItem(TOKEN_KEY);
}

// An error answer of the API: {"error": {"code", "message"}} and its HTTP status.
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

// Listeners told when the server refuses the token (401), e.g. after a revoke.
const unauthorizedListeners = [];
export function onUnauthorized(fn) {
  unauthorizedListeners.push(fn);
}

// "/v1/aggregates" + {ref_date: "...", by: ["coo"]} -> "/v1/aggregates?ref_date=...&by=coo"
export function buildPath(path, params = {}) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === "" || (Array.isArray(v) && v.length === 0)) continue;
    q.set(k, Array.isArray(v) ? v.join(",") : String(v));
  }
  const s = q.toString();
  // Commas in lists stay readable; URLSearchParams encodes them as %2C, which the server decodes alike.
  return s ? `${path}?${s.replace(/%2C/g, ",")}` : path;
}

async function request(path, { token = getToken(), accept = "application/json" } = {}) {
  const headers = { Accept: accept };
  if (token) headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(path, { headers, cache: "no-store", credentials: "omit", referrerPolicy: "no-referrer" });
  } catch (e) {
    throw new ApiError(0, "network", "The gateway could not be reached. Is it running?");
  }
  if (!response.ok) {
    let code = "http_" + response.status;
    let message = `HTTP ${response.status}`;
    try {
      const body = await response.json();
      if (body && body.error) {
        code = body.error.code || code;
        message = body.error.message || message;
      }
    } catch (e) {
      /* not JSON: keep the status line */
    }
    const err = new ApiError(response.status, code, message);
    if (response.status === 401 && token === getToken()) unauthorizedListeners.forEach((fn) => fn(err));
    throw err;
  }
  return response;
}

// GET a JSON document.
export async function getJson(path, params, options) {
  const response = await request(buildPath(path, params), options);
  return response.json();
}

// GET a file (CSV, SDMX-CSV) as a Blob, with its name from the query.
export async function getBlob(path, params, options) {
  const response = await request(buildPath(path, params), options);
  return response.blob();
}

// Saves a Blob as a download without putting anything in the page's URL.
export function saveBlob(blob, filename) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

// The caller's role: an operator may list snapshots (200), a consumer may not (403);
// an unknown or revoked token is a 401.
export async function detectRole(token) {
  try {
    await request("/v1/snapshots", { token });
    return "operator";
  } catch (e) {
    if (e instanceof ApiError && e.status === 403) return "consumer";
    throw e;
  }
}

// Code lists, fetched once per page load: {countries: Map(code -> name), ...}.
let codelistsPromise = null;
export function codelists() {
  if (!codelistsPromise) {
    const names = ["countries", "regions", "pop_types", "sex", "age_bands"];
    codelistsPromise = Promise.all(names.map((n) => getJson(`/v1/codelists/${n}`, {}, { token: null })))
      .then((lists) => {
        const out = {};
        lists.forEach((list, i) => {
          out[names[i]] = list.items;
        });
        return out;
      })
      .catch((e) => {
        codelistsPromise = null;
        throw e;
      });
  }
  return codelistsPromise;
}
