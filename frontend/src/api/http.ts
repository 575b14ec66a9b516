/**
 * The one way the app talks to the API: cookie session, CSRF header, one refresh on 401.
 *
 * The browser holds the session in HttpOnly cookies; JavaScript only ever sees the CSRF token,
 * kept in memory (never in storage). Errors come back as ApiError (problem+json) or
 * NetworkError (no answer at all), so callers can tell "the server said no" from "offline".
 */
import { withLock } from '../lib/locks';
import type { Problem } from './types';

export const API_BASE = '/api/v1';

const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export class NetworkError extends Error {
  override name = 'NetworkError';
}

export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    readonly problem: Problem,
  ) {
    super(problem.detail || problem.title || `Request failed (${status})`);
  }

  /** The last part of the problem type, e.g. "version-mismatch". */
  get slug(): string {
    return (this.problem.type ?? '').split(':').pop() ?? '';
  }
}

export interface RequestOptions {
  json?: unknown;
  body?: BodyInit;
  headers?: Record<string, string>;
  /** false for requests that start a session (log in, register): no CSRF, no refresh. */
  session?: boolean;
  signal?: AbortSignal;
}

export interface ApiResponse<T> {
  status: number;
  data: T;
  headers: Headers;
}

let csrfToken: string | null = null;
const reachability = new Set<(reachable: boolean) => void>();
let refreshing: Promise<boolean> | null = null;
let sessionLost: () => void = () => holdCsrfToken(null);

function holdCsrfToken(token: string | null): void {
  csrfToken = token;
}

export function setCsrfToken(token: string | null): void {
  holdCsrfToken(token);
}

/** Told after every request whether the server answered (any status) or not at all. */
export function onReachability(listener: (reachable: boolean) => void): () => void {
  reachability.add(listener);
  return () => reachability.delete(listener);
}

function reportReachable(reachable: boolean): void {
  for (const listener of reachability) listener(reachable);
}

/** Called once a refresh has failed: the session is over and the user must log in. */
export function onSessionLost(handler: () => void): void {
  sessionLost = () => {
    holdCsrfToken(null);
    handler();
  };
}

async function send(method: string, path: string, options: RequestOptions): Promise<Response> {
  const headers = new Headers(options.headers);
  headers.set('Accept', 'application/json');
  let body = options.body;
  if (options.json !== undefined) {
    headers.set('Content-Type', 'application/json');
    body = JSON.stringify(options.json);
  }
  if (UNSAFE_METHODS.has(method) && csrfToken !== null) headers.set('X-CSRF-Token', csrfToken);
  let response: Response;
  try {
    response = await fetch(API_BASE + path, {
      method,
      headers,
      body,
      credentials: 'same-origin',
      signal: options.signal,
    });
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') throw error;
    reportReachable(false);
    throw new NetworkError('The server could not be reached.');
  }
  // A proxy's 502/504 means the app is unreachable too.
  reportReachable(response.status !== 502 && response.status !== 504);
  return response;
}

async function problemOf(response: Response): Promise<Problem> {
  try {
    const body: unknown = await response.json();
    if (body && typeof body === 'object') return body as Problem;
  } catch {
    // Not JSON (e.g. an HTML error page from a proxy): fall through.
  }
  return { title: response.statusText || `HTTP ${response.status}`, status: response.status };
}

async function read<T>(response: Response): Promise<ApiResponse<T>> {
  if (!response.ok) throw new ApiError(response.status, await problemOf(response));
  const text = response.status === 204 ? '' : await response.text();
  const data = (text ? JSON.parse(text) : undefined) as T;
  return { status: response.status, data, headers: response.headers };
}

interface SessionState {
  signed_in: boolean;
  refreshable: boolean;
  csrf_token: string | null;
}

/**
 * The server's view of this browser's cookie session (the cookies are HttpOnly: JavaScript
 * cannot look). Always 200, so a signed-out visitor causes no 401, which browsers log as an
 * error; `refreshable` says whether a refresh cookie came along.
 */
async function sessionState(): Promise<SessionState> {
  const response = await send('GET', '/auth/cookie/session', {});
  if (!response.ok) throw new ApiError(response.status, await problemOf(response));
  return (await response.json()) as SessionState;
}

async function refreshNow(): Promise<boolean> {
  // Another tab may have refreshed while this one waited for the lock; its cookies are ours.
  const current = await sessionState();
  if (current.signed_in) {
    holdCsrfToken(current.csrf_token);
    return true;
  }
  if (!current.refreshable) {
    holdCsrfToken(null);
    return false;
  }
  const refreshed = await send('POST', '/auth/cookie/refresh', {});
  if (refreshed.ok) {
    holdCsrfToken(((await refreshed.json()) as { csrf_token: string }).csrf_token);
    return true;
  }
  if (refreshed.status === 401) {
    holdCsrfToken(null);
    return false;
  }
  throw new ApiError(refreshed.status, await problemOf(refreshed));
}

/** Renew the access cookie from the refresh cookie; false when the session is over.
 * One refresh at a time across tabs: two tabs presenting the same single-use refresh token
 * would look like token theft to the server and end the session. */
export function refreshSession(): Promise<boolean> {
  refreshing ??= withLock('taskwell-session', refreshNow).finally(() => {
    refreshing = null;
  });
  return refreshing;
}

/** Fetch the CSRF token of the current cookie session (after a reload, or offline boot). */
export async function loadCsrfToken(): Promise<void> {
  const state = await sessionState();
  if (state.signed_in) {
    holdCsrfToken(state.csrf_token);
    return;
  }
  if (state.refreshable && (await refreshSession())) return;
  sessionLost();
  throw new ApiError(401, { title: 'Signed out', status: 401, detail: 'The session has ended; log in again.' });
}

/**
 * Start-up: is there a cookie session? One request, answered 200 either way; an expired access
 * cookie is renewed from the refresh cookie when one came along. Holds the CSRF token when
 * there is a session.
 */
export async function probeSession(): Promise<boolean> {
  const state = await sessionState();
  if (state.signed_in) {
    holdCsrfToken(state.csrf_token);
    return true;
  }
  if (state.refreshable && (await refreshSession())) return true;
  holdCsrfToken(null);
  return false;
}

function isCsrfFailure(response: Response, problem: Problem): boolean {
  return response.status === 403 && (problem.type ?? '').endsWith(':csrf-failed');
}

export async function request<T>(method: string, path: string, options: RequestOptions = {}): Promise<ApiResponse<T>> {
  const session = options.session !== false;
  if (session && UNSAFE_METHODS.has(method) && csrfToken === null) await loadCsrfToken();
  let response = await send(method, path, options);
  if (session && response.status === 401) {
    if (await refreshSession()) {
      response = await send(method, path, options);
    } else {
      sessionLost();
    }
  } else if (session && response.status === 403) {
    // The token may be stale (e.g. a session renewed in another tab): fetch it once, retry.
    if (isCsrfFailure(response, await problemOf(response.clone()))) {
      await loadCsrfToken();
      response = await send(method, path, options);
    }
  }
  return read<T>(response);
}

/** A version as the API's entity tag: `"v3"`. */
export function etagOf(version: number): string {
  return `"v${version}"`;
}

/** `If-Match` for a change made against `version`; none (whatever is current) for null. */
export function ifMatch(version: number | null): Record<string, string> {
  return version === null ? {} : { 'If-Match': etagOf(version) };
}

/** What to show a person for a failed request: the problem's `detail`. */
export function messageOf(error: unknown): string {
  if (error instanceof NetworkError) return 'You are offline. Try again once you are connected.';
  if (error instanceof ApiError) {
    const fields = (error.problem.errors ?? []).map((e) => `${e.field}: ${e.message}`);
    return [error.message, ...fields].join(' ');
  }
  return 'Something went wrong.';
}
