// The public API as the apps call it: JSON in and out under /api/v1, the session's tokens
// kept in this browser and refreshed once when an access token is refused, and every
// refusal thrown as an ApiError carrying the problem's words.

const SESSION = 'ordo.session';
const listeners = new Set();
const writers = new Set();
/** How often a step a moment early (409 with Retry-After) is sent again. */
const EARLY_RETRIES = 5;

/** A refused request: `status`, and the problem's `title` and `detail` (in words). */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `The server answered ${status}.`);
    this.status = status;
    this.problem = problem ?? {};
  }

  /** Field errors of a 422, by field name. */
  get fields() {
    const out = {};
    for (const e of this.problem.errors ?? []) out[e.field] = e.detail;
    return out;
  }
}

export function session() {
  try {
    return JSON.parse(localStorage.getItem(SESSION));
  } catch {
    return null;
  }
}

/** Keeps `value` as the session (null ends it); `refused` when the server ended it. */
function remember(value, refused = false) {
  if (value) localStorage.setItem(SESSION, JSON.stringify(value));
  else localStorage.removeItem(SESSION);
  for (const listener of listeners) listener(value, refused);
}

/**
 * Calls `listener(session, refused)` whenever the session starts or ends: `refused` is true
 * when it ended because the server no longer took its tokens.
 */
export function onSession(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

async function problemOf(response) {
  try {
    return await response.json();
  } catch {
    return { title: response.statusText };
  }
}

async function send(method, path, body, headers = {}, root = false) {
  const init = { method, headers: { accept: 'application/json', ...headers } };
  if (body instanceof Blob) {
    // A file goes as it is, with its own type (a picture).
    init.headers['content-type'] = body.type || 'application/octet-stream';
    init.body = body;
  } else if (body !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const current = session();
  if (current) init.headers.authorization = `Bearer ${current.access_token}`;
  try {
    return await fetch(root ? path : `/api/v1${path}`, init);
  } catch {
    throw new ApiError(0, { detail: 'The server cannot be reached. Check the connection and try again.' });
  }
}

let refreshing = null;

/** Trades the refresh token for new tokens, once however many requests were refused. */
async function refresh() {
  const current = session();
  if (!current?.refresh_token) return false;
  refreshing ??= (async () => {
    const response = await fetch('/api/v1/auth/refresh', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ refresh_token: current.refresh_token }),
    });
    if (!response.ok) return false;
    const tokens = await response.json();
    remember({ ...current, ...tokens });
    return true;
  })().finally(() => {
    refreshing = null;
  });
  return refreshing;
}

/**
 * After the server refused the access token `refused`: true once the session has a newer
 * one (refreshed now, or by another request meanwhile); false when it cannot be refreshed,
 * and then the session ends (the app shows its login form).
 */
export async function renew(refused) {
  const current = session();
  if (!current) return false;
  if (current.access_token !== refused) return true;
  if (await refresh()) return true;
  if (session()) remember(null, true);
  return false;
}

/**
 * Calls `listener(method, path)` after each change the API took (any method but GET), so
 * that what shows a count elsewhere on the page can look again.
 */
export function onWrite(listener) {
  writers.add(listener);
  return () => writers.delete(listener);
}

/**
 * `method path` with `body` (a Blob, such as a file, is sent as it is, with its type); the
 * answer's JSON (null for 204), or its text when it is not JSON. `root` paths are outside
 * `/api/v1` (`/metrics`). A refused access token is refreshed once; a session that cannot
 * be refreshed ends, which sends the app to its login form (and back here after).
 */
export async function api(method, path, body, { headers, root } = {}) {
  const sentWith = session()?.access_token;
  let response = await send(method, path, body, headers, root);
  if (response.status === 401 && (await renew(sentWith))) {
    response = await send(method, path, body, headers, root);
    if (response.status === 401) remember(null, true);
  }
  // A 409 with Retry-After is a step a moment early (it waits on an event the server has
  // not handled yet, such as a hand-over before the order has heard of its courier):
  // nothing was done, so it is sent again, a few times.
  for (let early = 0; response.status === 409 && early < EARLY_RETRIES; early += 1) {
    const wait = Number(response.headers.get('retry-after'));
    if (!(wait > 0 && wait <= 5)) break;
    await new Promise((resolve) => setTimeout(resolve, wait * 1000));
    response = await send(method, path, body, headers, root);
  }
  if (!response.ok) throw new ApiError(response.status, await problemOf(response));
  if (method !== 'GET') for (const writer of writers) writer(method, path);
  if (response.status === 204) return null;
  const type = response.headers.get('content-type') ?? '';
  return type.includes('json') ? response.json() : response.text();
}

/** Logs in; the session's user is read from `/me`. */
export async function login(email, password) {
  const tokens = await api('POST', '/auth/login', { email, password });
  remember(tokens);
  try {
    const me = await api('GET', '/me');
    remember({ ...tokens, user: me });
  } catch (error) {
    remember(null);
    throw error;
  }
  return session();
}

/** Creates an account with `role` and logs in. */
export async function register({ name, email, password, role }) {
  await api('POST', '/auth/register', { name, email, password, role });
  return login(email, password);
}

export async function logout() {
  const current = session();
  if (current?.refresh_token) {
    try {
      await api('POST', '/auth/logout', { refresh_token: current.refresh_token });
    } catch {
      // The session ends here whatever the server says.
    }
  }
  remember(null);
}

/** A fresh idempotency key, for a request that must not happen twice. */
export function idempotencyKey() {
  return crypto.randomUUID();
}
