// The log-in and register screens, with the API faked at fetch().
import { screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { setCsrfToken } from '../api/http';
import { AuthProvider, useAuth } from '../auth/AuthContext';
import { renderAt } from '../test/render';
import LoginPage from './LoginPage';
import RegisterPage from './RegisterPage';
import { USER, json } from '../test/fixtures';

function problem(status: number, slug: string, detail: string): Response {
  return new Response(JSON.stringify({ type: `urn:taskwell:problem:${slug}`, title: slug, status, detail }), {
    status,
    headers: { 'Content-Type': 'application/problem+json' },
  });
}

function AuthStatus() {
  const { state } = useAuth();
  return <p data-testid="auth">{state.status}</p>;
}

function renderScreen(screenElement: React.ReactElement, path: string) {
  return renderAt(
    path,
    <AuthProvider initial={{ status: 'signed-out' }}>
      {screenElement}
      <AuthStatus />
    </AuthProvider>,
  );
}

afterEach(() => {
  vi.unstubAllGlobals();
  setCsrfToken(null);
});

describe('LoginPage', () => {
  it('has the labelled fields, the button and the link to register', () => {
    renderScreen(<LoginPage />, '/login');

    expect(screen.getByRole('heading', { name: 'Log in' })).toBeInTheDocument();
    expect(screen.getByLabelText('Email')).toHaveAttribute('type', 'email');
    expect(screen.getByLabelText('Password')).toHaveAttribute('type', 'password');
    expect(screen.getByRole('button', { name: 'Log in' })).toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'Create an account' })).toHaveAttribute('href', '/register');
  });

  it('logs in with the cookie flow and keeps the CSRF token for later writes', async () => {
    const fetchMock = vi.fn(async (url: string) =>
      url.endsWith('/auth/cookie/login') ? json(200, { csrf_token: 'csrf-1', expires_in: 900 }) : json(200, USER),
    );
    vi.stubGlobal('fetch', fetchMock);
    renderScreen(<LoginPage />, '/login');

    await userEvent.type(screen.getByLabelText('Email'), 'ada@example.com');
    await userEvent.type(screen.getByLabelText('Password'), 'correct horse battery');
    await userEvent.click(screen.getByRole('button', { name: 'Log in' }));

    expect(await screen.findByText('signed-in')).toBeInTheDocument();
    const [url, init] = fetchMock.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe('/api/v1/auth/cookie/login');
    expect(JSON.parse(String(init.body))).toEqual({ email: 'ada@example.com', password: 'correct horse battery' });
    expect(init.credentials).toBe('same-origin');
    expect(new Headers(init.headers).has('Authorization')).toBe(false);
  });

  it('shows the problem detail when the credentials are wrong', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => problem(401, 'invalid-credentials', 'Incorrect email or password.')),
    );
    renderScreen(<LoginPage />, '/login');

    await userEvent.type(screen.getByLabelText('Email'), 'ada@example.com');
    await userEvent.type(screen.getByLabelText('Password'), 'nope{Enter}');

    expect(await screen.findByRole('alert')).toHaveTextContent('Incorrect email or password.');
    expect(screen.getByTestId('auth')).toHaveTextContent('signed-out');
  });

  it('asks for the second-factor code when the account has one', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => problem(401, 'otp-required', 'Enter the code from your authenticator app.')),
    );
    renderScreen(<LoginPage />, '/login');

    await userEvent.type(screen.getByLabelText('Email'), 'ada@example.com');
    await userEvent.type(screen.getByLabelText('Password'), 'pw{Enter}');

    expect(await screen.findByLabelText('Authentication code')).toBeInTheDocument();
  });
});

describe('RegisterPage', () => {
  it('has the labelled fields and the "Create account" button', () => {
    renderScreen(<RegisterPage />, '/register');

    expect(screen.getByLabelText('Email')).toBeInTheDocument();
    expect(screen.getByLabelText('Display name')).toBeInTheDocument();
    expect(screen.getByLabelText('Password')).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Create account' })).toBeInTheDocument();
  });

  it('registers, then signs in', async () => {
    const fetchMock = vi.fn(async (url: string) => {
      if (url.endsWith('/auth/register')) return json(201, USER);
      if (url.endsWith('/auth/cookie/login')) return json(200, { csrf_token: 'c', expires_in: 900 });
      return json(200, USER);
    });
    vi.stubGlobal('fetch', fetchMock);
    renderScreen(<RegisterPage />, '/register');

    await userEvent.type(screen.getByLabelText('Email'), 'ada@example.com');
    await userEvent.type(screen.getByLabelText('Display name'), 'Ada');
    await userEvent.type(screen.getByLabelText('Password'), 'four random words here');
    await userEvent.click(screen.getByRole('button', { name: 'Create account' }));

    expect(await screen.findByText('signed-in')).toBeInTheDocument();
    expect(fetchMock.mock.calls.map((call) => call[0])).toEqual([
      '/api/v1/auth/register',
      '/api/v1/auth/cookie/login',
      '/api/v1/users/me',
    ]);
  });

  it('shows why a password was refused', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => problem(422, 'weak-password', 'This password is too easy to guess.')),
    );
    renderScreen(<RegisterPage />, '/register');

    await userEvent.type(screen.getByLabelText('Email'), 'ada@example.com');
    await userEvent.type(screen.getByLabelText('Password'), 'password1234');
    await userEvent.click(screen.getByRole('button', { name: 'Create account' }));

    expect(await screen.findByRole('alert')).toHaveTextContent('This password is too easy to guess.');
  });
});
