// Account settings against a faked API.
import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { setCsrfToken } from '../api/http';
import { AuthProvider } from '../auth/AuthContext';
import { dropTaskwellDB } from '../offline/db';
import { FakeServer } from '../test/fakeServer';
import { renderAt, testWorkspace, withWorkspace } from '../test/render';
import type { Workspace } from '../tasks/workspace';
import SettingsPage from './SettingsPage';
import { USER, json } from '../test/fixtures';

const SESSIONS = [
  {
    id: 's1',
    created_at: '2030-01-01T00:00:00Z',
    last_used_at: '2030-01-02T00:00:00Z',
    expires_at: '2030-02-01T00:00:00Z',
    user_agent: 'Mozilla/5.0 (X11; Linux x86_64) Chrome/130.0',
    ip: '127.0.0.1',
    current: true,
  },
  {
    id: 's2',
    created_at: '2030-01-01T00:00:00Z',
    last_used_at: '2030-01-02T00:00:00Z',
    expires_at: '2030-02-01T00:00:00Z',
    user_agent: 'Mozilla/5.0 (iPhone) Safari/605',
    ip: '10.0.0.2',
    current: false,
  },
];

let calls: { method: string; url: string; init: RequestInit }[];
let sessions: typeof SESSIONS;
let workspace: Workspace & { dbName: string };

beforeEach(async () => {
  setCsrfToken('csrf');
  workspace = await testWorkspace(new FakeServer());
  calls = [];
  sessions = [...SESSIONS];
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string, init: RequestInit) => {
      const method = init.method ?? 'GET';
      calls.push({ method, url, init });
      if (url.endsWith('/auth/sessions')) return json(200, sessions);
      if (url.includes('/auth/sessions/') && method === 'DELETE') {
        sessions = sessions.filter((s) => !url.endsWith(s.id));
        return json(204, null);
      }
      if (url.endsWith('/api-keys') && method === 'GET') return json(200, []);
      if (url.endsWith('/labels') && method === 'GET')
        return json(200, {
          items: [{ id: 'l1', name: 'Errand', color: '#1d4ed8', version: 1, created_at: '', updated_at: '' }],
        });
      if (url.endsWith('/api-keys') && method === 'POST') {
        return json(201, {
          id: 'k1',
          name: 'CI',
          prefix: 'abcd',
          scopes: ['tasks:read'],
          created_at: '2030-01-01T00:00:00Z',
          expires_at: null,
          last_used_at: null,
          key: 'tw_abcd_secret',
        });
      }
      if (url.endsWith('/users/me/avatar') && method === 'PUT')
        return json(200, { avatar: { url_1x: '/avatars/a-96.webp', url_2x: '/avatars/a-192.webp' } });
      if (url.endsWith('/users/me') && method === 'PATCH') return json(200, { ...USER, display_name: 'Ada L.' });
      return json(404, {});
    }),
  );
});

afterEach(async () => {
  vi.unstubAllGlobals();
  await dropTaskwellDB(workspace.dbName);
  await dropTaskwellDB();
});

function renderSettings() {
  return renderAt(
    '/settings',
    <AuthProvider initial={{ status: 'signed-in', user: USER, offline: false }}>
      {withWorkspace(workspace, <SettingsPage />)}
    </AuthProvider>,
  );
}

describe('SettingsPage', () => {
  it('is headed "Account"', () => {
    renderSettings();
    expect(screen.getByRole('heading', { level: 1, name: 'Account' })).toBeInTheDocument();
  });

  it('lists your labels in a Labels section, each with its colour named', async () => {
    renderSettings();
    const section = screen.getByRole('region', { name: 'Labels' });

    const list = await within(section).findByRole('list', { name: 'Your labels' });
    expect(within(list).getByRole('listitem')).toHaveTextContent('ErrandBlue');
    expect(within(list).getByRole('button', { name: 'Edit label Errand' })).toBeInTheDocument();
    expect(within(list).getByRole('button', { name: 'Delete label Errand' })).toBeInTheDocument();
  });

  it('"Log out other devices" ends every session but this one', async () => {
    renderSettings();
    await screen.findByText('Safari on iOS');

    await userEvent.click(screen.getByRole('button', { name: 'Log out other devices' }));

    await waitFor(() =>
      expect(calls.some((c) => c.method === 'DELETE' && c.url.endsWith('/auth/sessions/s2'))).toBe(true),
    );
    expect(calls.some((c) => c.method === 'DELETE' && c.url.endsWith('/auth/sessions/s1'))).toBe(false);
    await waitFor(() => expect(screen.queryByText('Safari on iOS')).not.toBeInTheDocument());
    expect(new Headers(calls.find((c) => c.method === 'DELETE')!.init.headers).get('X-CSRF-Token')).toBe('csrf');
  });

  it('shows a new API key once', async () => {
    renderSettings();

    await userEvent.type(screen.getByLabelText('Key name'), 'CI');
    await userEvent.click(screen.getByRole('button', { name: 'Create key' }));

    expect(await screen.findByLabelText('API key')).toHaveValue('tw_abcd_secret');
    const post = calls.find((c) => c.method === 'POST')!;
    expect(JSON.parse(String(post.init.body))).toEqual({ name: 'CI', scopes: ['tasks:read'] });
    await userEvent.click(screen.getByRole('button', { name: 'Done' }));
    expect(screen.queryByLabelText('API key')).not.toBeInTheDocument();
  });

  it('previews an avatar as a data: URL and uploads the raw bytes with their type', async () => {
    renderSettings();
    const file = new File([new Uint8Array([0x89, 0x50, 0x4e, 0x47])], 'me.png', { type: 'image/png' });

    await userEvent.upload(screen.getByLabelText('Choose an image'), file);

    const preview = await screen.findByAltText('Preview of the chosen image');
    expect(preview.getAttribute('src')).toMatch(/^data:image\/png;base64,/);
    await userEvent.click(screen.getByRole('button', { name: 'Upload avatar' }));

    await waitFor(() => expect(calls.some((c) => c.method === 'PUT')).toBe(true));
    const put = calls.find((c) => c.method === 'PUT')!;
    expect(put.url).toBe('/api/v1/users/me/avatar');
    expect(new Headers(put.init.headers).get('Content-Type')).toBe('image/png');
    expect(put.init.body).toBe(file);
    const avatar = await waitFor(() => {
      const img = document.querySelector('img.avatar');
      expect(img).toHaveAttribute('srcset', '/avatars/a-96.webp 1x, /avatars/a-192.webp 2x');
      return img!;
    });
    expect(avatar).toHaveAttribute('width', '96');
    expect(avatar).toHaveAttribute('alt', '');
  });

  it('refuses a file that is not an image it accepts', async () => {
    renderSettings();
    const file = new File(['<svg/>'], 'x.svg', { type: 'image/svg+xml' });

    await userEvent.upload(screen.getByLabelText('Choose an image'), file, { applyAccept: false });

    expect(await screen.findByText('Choose a PNG, JPEG, WebP or GIF image.')).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Upload avatar' })).toBeDisabled();
  });

  it('saves the display name', async () => {
    renderSettings();
    const profile = screen.getByRole('region', { name: 'Profile' });
    const field = within(profile).getByLabelText('Display name');

    await userEvent.clear(field);
    await userEvent.type(field, 'Ada L.');
    await userEvent.click(within(profile).getByRole('button', { name: 'Save name' }));

    expect(await screen.findByText('Display name saved.')).toBeInTheDocument();
  });
});
