// The API client: every call to Echomate goes through `api()`. It shows the four rules a
// frontend needs (docs/frontend-guide.md has the long form):
//   1. the ID token is the credential: `Authorization: <idToken>`;
//   2. on a 401, refresh once (`POST /auth/refresh`) and retry; if the refresh fails too, the
//      user signs in again;
//   3. every error is JSON `{Code, Message, Details?}`: show Message, branch on Code/Details;
//   4. a 429 carries `Retry-After` (seconds): wait that long before trying again.

let API = "";

/** Read where the API is from the demo server (config.json), so these files work anywhere. */
export async function loadConfig() {
  const config = await (await fetch("config.json")).json();
  API = config.api;
  return config;
}

/** An error answer of the API: `code` (e.g. "ConflictError"), `details` (a list, maybe empty). */
export class ApiError extends Error {
  constructor(status, body, headers) {
    super(body?.Message ?? `HTTP ${status}`);
    this.status = status;
    this.code = body?.Code ?? "HTTPError";
    this.details = body?.Details ?? [];
    const retryAfter = headers.get("Retry-After"); // readable: the API exposes it (CORS)
    this.retryAfter = retryAfter === null ? null : Number(retryAfter);
  }
}

// Tokens live in localStorage so a reload keeps the user signed in. (A production web app may
// prefer memory only: anything in localStorage is readable by any script on the page.)
export const tokens = {
  get idToken() { return localStorage.getItem("idToken"); },
  get refreshToken() { return localStorage.getItem("refreshToken"); },
  save(answer) {
    localStorage.setItem("idToken", answer.idToken);
    // POST /auth/refresh answers without a refreshToken: keep the one from sign-in
    if (answer.refreshToken) localStorage.setItem("refreshToken", answer.refreshToken);
    if (answer.accessToken) localStorage.setItem("accessToken", answer.accessToken);
  },
  clear() {
    for (const name of ["idToken", "refreshToken", "accessToken"]) localStorage.removeItem(name);
  },
};

/** Called when the session is over (refresh refused): the app shows the sign-in form. */
export const events = new EventTarget();

let refreshing = null; // one refresh at a time: parallel 401s wait for the same one

async function refresh() {
  if (!tokens.refreshToken) return false;
  refreshing ??= (async () => {
    try {
      const answer = await api("/auth/refresh", {
        method: "POST",
        body: { refreshToken: tokens.refreshToken },
        auth: false,
      });
      tokens.save(answer);
      events.dispatchEvent(new Event("refreshed"));
      return true;
    } catch {
      return false;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Call the API: `api("/posts", {method: "POST", body: {...}, headers: {...}})`. Resolves to the
 * JSON answer (null for a 204), rejects with an ApiError.
 */
export async function api(path, { method = "GET", body, headers = {}, auth = true, retried = false } = {}) {
  const sent = { ...headers };
  if (body !== undefined) sent["Content-Type"] ??= "application/json";
  if (auth && tokens.idToken) sent.Authorization = tokens.idToken;
  const response = await fetch(API + path, {
    method,
    headers: sent,
    body: body === undefined ? undefined : JSON.stringify(body),
  });

  if (response.status === 401 && auth && !retried) {
    // The ID token expired (it lives 60 minutes) or was revoked: refresh, then retry once.
    if (await refresh()) return api(path, { method, body, headers, auth, retried: true });
    tokens.clear();
    events.dispatchEvent(new Event("signed-out"));
  }
  const text = await response.text(); // a 204 has no body
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) {
    const error = new ApiError(response.status, data, response.headers);
    // Rate limited: wait as told, once, when the wait is short; otherwise let the UI say so.
    if (response.status === 429 && !retried && error.retryAfter !== null && error.retryAfter <= 5) {
      await sleep(error.retryAfter * 1000);
      return api(path, { method, body, headers, auth, retried: true });
    }
    throw error;
  }
  return data;
}
