// The API client: CSRF header, one refresh on 401, problem details, offline detection.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError, NetworkError, loadCsrfToken, messageOf, onSessionLost, request, setCsrfToken } from './http';

type Handler = (url: string, init: RequestInit) => Response | Promise<Response>;

function json(status: number, body: unknown, type = 'application/json'): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': type } });
}

function problem(status: number, slug: string, detail = `${slug} detail`): Response {
  return json(
    status,
    { type: `urn:taskwell:problem:${slug}`, title: slug, status, detail },
    'application/problem+json',
  );
}

let calls: { url: string; method: string; headers: Headers; body: unknown }[];

function serve(handler: Handler): void {
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string, init: RequestInit) => {
      calls.push({ url, method: init.method ?? 'GET', headers: new Headers(init.headers), body: init.body });
      return handler(url, init);
    }),
  );
}

beforeEach(() => {
  calls = [];
  setCsrfToken(null);
  onSessionLost(() => undefined);
});

afterEach(() => {
  vi.unstubAllGlobals();
});

const SIGNED_OUT_REFRESHABLE = { signed_in: false, refreshable: true, csrf_token: null };

describe('request', () => {
  it('sends the CSRF token on unsafe requests only, and cookies same-origin', async () => {
    setCsrfToken('tok');
    serve(() => json(200, { ok: true }));

    await request('GET', '/tasks');
    await request('POST', '/tasks', { json: { title: 'x' } });

    expect(calls[0]!.headers.has('X-CSRF-Token')).toBe(false);
    expect(calls[1]!.headers.get('X-CSRF-Token')).toBe('tok');
    expect(calls[1]!.headers.get('Content-Type')).toBe('application/json');
    expect(vi.mocked(fetch).mock.calls[1]![1]).toEqual(expect.objectContaining({ credentials: 'same-origin' }));
  });

  it('fetches the CSRF token first when it is not known (after a reload)', async () => {
    serve((url) =>
      url.endsWith('/auth/cookie/session')
        ? json(200, { signed_in: true, refreshable: true, csrf_token: 'fresh' })
        : json(201, {}),
    );

    await request('POST', '/tasks', { json: {} });

    expect(calls.map((c) => c.url)).toEqual(['/api/v1/auth/cookie/session', '/api/v1/tasks']);
    expect(calls[1]!.headers.get('X-CSRF-Token')).toBe('fresh');
  });

  it('refreshes once on 401 and retries the request', async () => {
    setCsrfToken('old');
    let expired = true;
    serve((url) => {
      if (url.endsWith('/auth/cookie/session')) return json(200, SIGNED_OUT_REFRESHABLE);
      if (url.endsWith('/auth/cookie/refresh')) {
        expired = false;
        return json(200, { csrf_token: 'new', expires_in: 900 });
      }
      return expired ? problem(401, 'invalid-token') : json(200, { items: [], next_cursor: null });
    });

    const { data } = await request<{ items: unknown[] }>('GET', '/tasks');

    expect(data.items).toEqual([]);
    expect(calls.map((c) => `${c.method} ${c.url}`)).toEqual([
      'GET /api/v1/tasks',
      'GET /api/v1/auth/cookie/session',
      'POST /api/v1/auth/cookie/refresh',
      'GET /api/v1/tasks',
    ]);
  });

  it('shares one refresh between concurrent 401s', async () => {
    setCsrfToken('old');
    let refreshed = false;
    serve((url) => {
      if (url.endsWith('/auth/cookie/session'))
        return json(200, refreshed ? { signed_in: true, refreshable: true, csrf_token: 'n' } : SIGNED_OUT_REFRESHABLE);
      if (url.endsWith('/auth/cookie/refresh')) {
        refreshed = true;
        return json(200, { csrf_token: 'n', expires_in: 1 });
      }
      return refreshed ? json(200, {}) : problem(401, 'invalid-token');
    });

    await Promise.all([request('GET', '/a'), request('GET', '/b')]);

    expect(calls.filter((c) => c.url.endsWith('/refresh'))).toHaveLength(1);
  });

  it('reports the session lost when the refresh fails, and throws the 401', async () => {
    const lost = vi.fn();
    onSessionLost(lost);
    serve((url) =>
      url.endsWith('/auth/cookie/session') ? json(200, SIGNED_OUT_REFRESHABLE) : problem(401, 'invalid-refresh-token'),
    );

    await expect(request('GET', '/users/me')).rejects.toBeInstanceOf(ApiError);
    expect(lost).toHaveBeenCalledOnce();
  });

  it('does not refresh for the log-in request itself', async () => {
    serve(() => problem(401, 'invalid-credentials', 'Wrong email or password.'));

    const error = await request('POST', '/auth/cookie/login', { json: {}, session: false }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).slug).toBe('invalid-credentials');
    expect(messageOf(error)).toBe('Wrong email or password.');
    expect(calls).toHaveLength(1);
  });

  it('fetches a new CSRF token once when the server refuses the old one', async () => {
    setCsrfToken('stale');
    let token = 'stale';
    serve((url, init) => {
      if (url.endsWith('/auth/cookie/session')) {
        token = 'good';
        return json(200, { signed_in: true, refreshable: true, csrf_token: 'good' });
      }
      const sent = new Headers(init.headers).get('X-CSRF-Token');
      return sent === 'good' && token === 'good' ? new Response(null, { status: 204 }) : problem(403, 'csrf-failed');
    });

    await request('DELETE', '/tasks/1');

    expect(calls.map((c) => c.headers.get('X-CSRF-Token'))).toEqual(['stale', null, 'good']);
  });

  it('turns a failed fetch into NetworkError', async () => {
    vi.stubGlobal('fetch', vi.fn().mockRejectedValue(new TypeError('Failed to fetch')));

    await expect(request('GET', '/tasks')).rejects.toBeInstanceOf(NetworkError);
    expect(messageOf(new NetworkError('x'))).toMatch(/offline/);
  });

  it('shows the field errors of a validation problem', async () => {
    serve(() =>
      json(422, {
        type: 'urn:taskwell:problem:validation-error',
        title: 'Invalid',
        detail: 'Invalid input.',
        errors: [{ field: 'title', in: 'body', message: 'too long', code: 'x' }],
      }),
    );

    const error = await request('POST', '/tasks', { json: {}, session: false }).catch((e: unknown) => e);

    expect(messageOf(error)).toBe('Invalid input. title: too long');
  });
});

describe('loadCsrfToken', () => {
  it('reports the session lost when there is no session at all', async () => {
    const lost = vi.fn();
    onSessionLost(lost);
    serve((url) =>
      url.endsWith('/auth/cookie/session')
        ? json(200, { signed_in: false, refreshable: false, csrf_token: null })
        : problem(401, 'unauthorized'),
    );

    await expect(loadCsrfToken()).rejects.toBeInstanceOf(ApiError);
    expect(calls.map((c) => c.url)).toEqual(['/api/v1/auth/cookie/session']);
    expect(lost).toHaveBeenCalled();
  });
});
