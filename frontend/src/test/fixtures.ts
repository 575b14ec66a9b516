/** Shared test data: a signed-in user as the API returns it, and JSON responses. */
export const USER = {
  id: 'u1',
  email: 'ada@example.com',
  display_name: 'Ada',
  is_active: true,
  is_admin: false,
  created_at: '',
  updated_at: '',
  avatar: null,
};

export function json(status: number, body: unknown): Response {
  return new Response(status === 204 ? null : JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json' },
  });
}

export function problemJson(status: number, slug: string, detail = `${slug} (test)`): Response {
  return new Response(JSON.stringify({ type: `urn:taskwell:problem:${slug}`, title: slug, status, detail }), {
    status,
    headers: { 'Content-Type': 'application/problem+json' },
  });
}

export interface SentCall {
  method: string;
  url: string;
  body: unknown;
  /** The If-Match header sent, if any. */
  ifMatch: string | null;
}

type Route = [method: string, path: RegExp, answer: (match: RegExpMatchArray, body: unknown) => Response];

/**
 * A fetch stand-in that answers by method and path (the query string included), records
 * every call, and answers 404 to anything unknown.
 */
export function fakeApi(routes: Route[]): {
  fetch: (url: string, init?: RequestInit) => Promise<Response>;
  calls: SentCall[];
} {
  const calls: SentCall[] = [];
  const fetch = async (url: string, init: RequestInit = {}) => {
    const method = init.method ?? 'GET';
    const body = typeof init.body === 'string' ? (JSON.parse(init.body) as unknown) : undefined;
    calls.push({ method, url, body, ifMatch: new Headers(init.headers).get('If-Match') });
    for (const [m, path, answer] of routes) {
      const match = url.match(path);
      if (m === method && match) return answer(match, body);
    }
    return problemJson(404, 'not-found');
  };
  return { fetch, calls };
}

export const PROJECT_DEFAULTS = {
  color: null,
  is_inbox: false,
  role: 'owner' as const,
  position: 1024,
  archived: false,
  owner_id: 'u1',
  version: 1,
  created_at: '2030-01-01T00:00:00Z',
  updated_at: '2030-01-01T00:00:00Z',
};
