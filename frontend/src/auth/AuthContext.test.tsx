// Start-up: who is signed in, asked of the server only when this browser may hold a session.
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

describe('AuthProvider start-up', () => {
  it('asks nothing when nobody has signed in on this browser', async () => {
    const fetchMock = fakeApi({});

    expect(await bootStatus()).toBe('signed-out');

    expect(fetchMock).not.toHaveBeenCalled();
  });

  it('notes a session once one is confirmed, and finds it again after a reload', async () => {
    setCsrfToken('from-log-in'); // what a log-in does
    fakeApi({
      '/auth/cookie/csrf': () => json(200, { csrf_token: 'c', expires_in: 900 }),
      '/users/me': () => json(200, USER),
    });

    expect(await bootStatus()).toBe('signed-in');
  });

  it('tries the refresh cookie when a session was noted, and forgets the note when it is over', async () => {
    setCsrfToken('from-an-earlier-visit');
    const fetchMock = fakeApi({});

    expect(await bootStatus()).toBe('signed-out');

    const calls = fetchMock.mock.calls.map(([url, init]) => `${init?.method} ${String(url)}`);
    expect(calls).toContain('POST /api/v1/auth/cookie/refresh');
    fetchMock.mockClear();
    render(
      <AuthProvider>
        <AuthStatus />
      </AuthProvider>,
    );
    expect(fetchMock).not.toHaveBeenCalled();
  });
});
