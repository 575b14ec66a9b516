// Start-up: who is signed in, asked of the server once (200 either way).
import { render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { setCsrfToken } from '../api/http';
import { USER, json } from '../test/fixtures';
import { AuthProvider, useAuth } from './AuthContext';

function AuthStatus() {
  const { state } = useAuth();
  return <p data-testid="auth">{state.status}</p>;
}

async function bootStatus(): Promise<string | null> {
  render(
    <AuthProvider>
      <AuthStatus />
    </AuthProvider>,
  );
  return (await screen.findByText(/^signed-/)).textContent;
}

function fakeApi(routes: Record<string, () => Response>) {
  const fetchMock = vi.fn(async (input: RequestInfo | URL, _init?: RequestInit) => {
    const path = String(input).replace('/api/v1', '');
    const answer = routes[path];
    return answer ? answer() : json(401, { title: 'Unauthorized', status: 401 });
  });
  vi.stubGlobal('fetch', fetchMock);
  return fetchMock;
}

afterEach(() => {
  vi.unstubAllGlobals();
  setCsrfToken(null);
  localStorage.clear();
});

function calls(fetchMock: ReturnType<typeof fakeApi>): string[] {
  return fetchMock.mock.calls.map(([url, init]) => `${init?.method ?? 'GET'} ${String(url).replace('/api/v1', '')}`);
}

const SIGNED_OUT = { signed_in: false, refreshable: false, csrf_token: null, expires_in: null };

describe('AuthProvider start-up', () => {
  it('asks once, answered 200: a signed-out visitor causes no 401 and no refresh attempt', async () => {
    const fetchMock = fakeApi({ '/auth/cookie/session': () => json(200, SIGNED_OUT) });

    expect(await bootStatus()).toBe('signed-out');

    expect(calls(fetchMock)).toEqual(['GET /auth/cookie/session']);
  });

  it('finds the session of an earlier log-in', async () => {
    fakeApi({
      '/auth/cookie/session': () => json(200, { signed_in: true, refreshable: true, csrf_token: 'c', expires_in: 900 }),
      '/users/me': () => json(200, USER),
    });

    expect(await bootStatus()).toBe('signed-in');
  });

  it('renews an expired access cookie when a refresh cookie came along', async () => {
    let refreshed = false;
    const fetchMock = fakeApi({
      '/auth/cookie/session': () =>
        json(
          200,
          refreshed ? { ...SIGNED_OUT, signed_in: true, csrf_token: 'r' } : { ...SIGNED_OUT, refreshable: true },
        ),
      '/auth/cookie/refresh': () => {
        refreshed = true;
        return json(200, { csrf_token: 'renewed', expires_in: 900 });
      },
      '/users/me': () => (refreshed ? json(200, USER) : json(401, { status: 401 })),
    });

    expect(await bootStatus()).toBe('signed-in');

    expect(calls(fetchMock)).toContain('POST /auth/cookie/refresh');
  });
});
