// The signed-in shell: navigation, sync status, the shortcuts dialog and its focus handling.
import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { setCsrfToken } from '../api/http';
import { AuthProvider } from '../auth/AuthContext';
import { dropTaskwellDB } from '../offline/db';
import { renderAt } from '../test/render';
import SignedInApp from './SignedInApp';
import { INBOX_ID } from '../test/fakeServer';
import { PROJECT_DEFAULTS, USER, json } from '../test/fixtures';

beforeEach(() => {
  setCsrfToken('csrf');
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string) => {
      if (url.startsWith('/api/v1/tasks')) return json(200, { items: [], next_cursor: null });
      if (url.startsWith('/api/v1/projects?archived=false'))
        return json(200, { items: [{ ...PROJECT_DEFAULTS, id: INBOX_ID, name: 'Inbox', is_inbox: true }] });
      if (url.startsWith('/api/v1/labels')) return json(200, { items: [] });
      if (url.endsWith('/auth/cookie/logout')) return json(204, null);
      if (url.endsWith('/auth/sessions') || url.endsWith('/api-keys')) return json(200, []);
      return json(200, {});
    }),
  );
});

afterEach(async () => {
  vi.unstubAllGlobals();
  await dropTaskwellDB();
});

function renderShell(path = '/tasks') {
  return renderAt(
    path,
    <AuthProvider initial={{ status: 'signed-in', user: USER, offline: false }}>
      <SignedInApp />
    </AuthProvider>,
  );
}

describe('SignedInApp', () => {
  it('shows the navigation, the "Log out" button and the sync status', async () => {
    renderShell();

    const nav = await screen.findByRole('navigation', { name: 'Main' });
    expect(within(nav).getByRole('button', { name: 'Log out' })).toBeInTheDocument();
    expect(within(nav).getByRole('link', { name: 'Tasks' })).toHaveAttribute('aria-current', 'page');
    expect(await screen.findByRole('status', { name: 'Synced' })).toHaveTextContent('Synced');
    expect(await screen.findByRole('heading', { name: 'Tasks' })).toBeInTheDocument();
  });

  it('opens "Keyboard shortcuts" with ?, traps focus, closes with Escape and gives focus back', async () => {
    renderShell();
    const newTask = await screen.findByRole('textbox', { name: 'New task' });
    await userEvent.keyboard('n');
    expect(newTask).toHaveFocus();
    newTask.blur();
    const shortcutsButton = screen.getByRole('button', { name: 'Shortcuts' });
    shortcutsButton.focus();

    await userEvent.keyboard('?');

    const dialog = screen.getByRole('dialog', { name: 'Keyboard shortcuts' });
    expect(within(dialog).getByRole('button', { name: 'Close' })).toHaveFocus();
    expect(within(dialog).getByRole('table')).toHaveTextContent('New task');
    expect(document.getElementById('root') ?? document.body).toBeTruthy();
    await userEvent.tab();
    expect(within(dialog).getByRole('button', { name: 'Close' })).toHaveFocus();

    await userEvent.keyboard('{Escape}');
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    expect(shortcutsButton).toHaveFocus();
  });

  it('logs out through the cookie route', async () => {
    renderShell();

    await userEvent.click(await screen.findByRole('button', { name: 'Log out' }));

    await waitFor(() =>
      expect(vi.mocked(fetch)).toHaveBeenCalledWith(
        '/api/v1/auth/cookie/logout',
        expect.objectContaining({ method: 'POST' }),
      ),
    );
  });

  it('routes /settings to the "Account" page', async () => {
    renderShell('/settings');
    expect(await screen.findByRole('heading', { name: 'Account' })).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Log out other devices' })).toBeInTheDocument();
  });

  it('shows the projects beside the tasks; a project link opens it', async () => {
    renderShell();

    const projects = await screen.findByRole('navigation', { name: 'Projects' });
    await userEvent.click(await within(projects).findByRole('link', { name: 'Inbox' }));

    expect(await screen.findByRole('heading', { level: 1, name: 'Inbox' })).toBeInTheDocument();
    expect(within(projects).getByRole('link', { name: 'Inbox' })).toHaveAttribute('aria-current', 'page');
    expect(screen.queryByRole('button', { name: 'Share' })).not.toBeInTheDocument();
  });
});
