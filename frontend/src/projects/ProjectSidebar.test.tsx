// The project sidebar: Inbox first, the current project marked, create, rename, archive, delete.
import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { setCsrfToken } from '../api/http';
import type { Project } from '../api/types';
import { dropTaskwellDB } from '../offline/db';
import { FakeServer } from '../test/fakeServer';
import { PROJECT_DEFAULTS, fakeApi, json } from '../test/fixtures';
import { renderAt, testWorkspace, withWorkspace } from '../test/render';
import type { Workspace } from '../tasks/workspace';
import { ProjectSidebar } from './ProjectSidebar';

const INBOX = { ...PROJECT_DEFAULTS, id: 'i', name: 'Inbox', is_inbox: true, position: 0 };
const H = '0000000a-0000-4000-8000-000000000001';
const HOME = { ...PROJECT_DEFAULTS, id: H, name: 'Home', color: '#15803d', position: 1024 };
const CLUB = { ...PROJECT_DEFAULTS, id: 'c', name: 'Club', role: 'editor' as const, position: 2048 };

let workspace: Workspace & { dbName: string };
let api: ReturnType<typeof fakeApi>;

beforeEach(async () => {
  setCsrfToken('csrf');
  workspace = await testWorkspace(new FakeServer());
  api = fakeApi([
    ['GET', /\/projects\?archived=false$/, () => json(200, { items: [CLUB, HOME, INBOX] })],
    ['GET', /\/projects\?archived=true$/, () => json(200, { items: [] })],
    [
      'POST',
      /\/projects$/,
      (_, body) => json(201, { ...PROJECT_DEFAULTS, id: 'n', position: 4096, ...(body as object) }),
    ],
    [
      'PATCH',
      new RegExp(`/projects/${H}$`),
      (_, body) => json(200, { ...HOME, ...(body as Partial<Project>), version: 2 }),
    ],
    ['DELETE', new RegExp(`/projects/${H}$`), () => json(204, null)],
  ]);
  vi.stubGlobal('fetch', vi.fn(api.fetch));
});

afterEach(async () => {
  vi.unstubAllGlobals();
  await dropTaskwellDB(workspace.dbName);
  await dropTaskwellDB();
});

function renderSidebar(path = `/tasks?project=${H}`) {
  const result = renderAt(path, withWorkspace(workspace, <ProjectSidebar />));
  return { ...result, nav: screen.getByRole('navigation', { name: 'Projects' }) };
}

describe('ProjectSidebar', () => {
  it('lists "All tasks", the Inbox, then the projects; marks the one shown; no list items', async () => {
    const { nav } = renderSidebar();

    await within(nav).findByRole('link', { name: 'Club' });
    expect(
      within(nav)
        .getAllByRole('link')
        .map((link) => link.textContent),
    ).toEqual(['All tasks', 'Inbox', 'Home', 'Club']);
    expect(within(nav).getByRole('link', { name: 'Home' })).toHaveAttribute('aria-current', 'page');
    expect(within(nav).getByRole('link', { name: 'Home' })).toHaveAttribute('href', `/tasks?project=${H}`);
    expect(within(nav).queryByRole('listitem')).not.toBeInTheDocument();
    expect(within(nav).queryByRole('button', { name: 'Options for Inbox' })).not.toBeInTheDocument();
  });

  it('creates a project and opens it', async () => {
    const { nav, location } = renderSidebar('/tasks');
    await within(nav).findByRole('link', { name: 'Club' });

    await userEvent.click(within(nav).getByRole('button', { name: 'New project' }));
    await userEvent.type(within(nav).getByRole('textbox', { name: 'Project name' }), 'Garden');
    await userEvent.selectOptions(within(nav).getByRole('combobox', { name: 'Colour' }), 'Teal');
    await userEvent.click(within(nav).getByRole('button', { name: 'Create' }));

    expect(await within(nav).findByRole('link', { name: 'Garden' })).toBeInTheDocument();
    expect(api.calls).toContainEqual(
      expect.objectContaining({ method: 'POST', body: { name: 'Garden', color: '#0f766e' } }),
    );
    expect(location.history!.at(-1)).toBe('/tasks?project=n');
  });

  it('lets the owner rename a project in its options dialog', async () => {
    const { nav } = renderSidebar();
    await userEvent.click(await within(nav).findByRole('button', { name: 'Options for Home' }));

    const dialog = await screen.findByRole('dialog', { name: 'Project “Home”' });
    const name = within(dialog).getByRole('textbox', { name: 'Name' });
    expect(name).toHaveFocus();
    await userEvent.clear(name);
    await userEvent.type(name, 'House{Enter}');

    await waitFor(() => expect(screen.queryByRole('dialog')).not.toBeInTheDocument());
    expect(within(nav).getByRole('link', { name: 'House' })).toBeInTheDocument();
    expect(api.calls.at(-1)).toEqual(
      expect.objectContaining({ method: 'PATCH', body: { name: 'House', color: '#15803d' } }),
    );
  });

  it('deletes after a confirmation', async () => {
    const { nav } = renderSidebar('/tasks');
    await userEvent.click(await within(nav).findByRole('button', { name: 'Options for Home' }));
    const dialog = await screen.findByRole('dialog');

    await userEvent.click(within(dialog).getByRole('button', { name: 'Delete project' }));
    await userEvent.click(within(dialog).getByRole('button', { name: 'Yes, delete' }));

    await waitFor(() => expect(within(nav).queryByRole('link', { name: 'Home' })).not.toBeInTheDocument());
    expect(api.calls.at(-1)).toEqual(expect.objectContaining({ method: 'DELETE', url: `/api/v1/projects/${H}` }));
  });

  it('offers an editor only the sidebar order, and Escape closes', async () => {
    const { nav } = renderSidebar();
    const options = await within(nav).findByRole('button', { name: 'Options for Club' });
    await userEvent.click(options);

    const dialog = await screen.findByRole('dialog', { name: 'Project “Club”' });
    expect(within(dialog).queryByRole('textbox')).not.toBeInTheDocument();
    expect(within(dialog).queryByRole('button', { name: 'Delete project' })).not.toBeInTheDocument();
    expect(within(dialog).getByRole('button', { name: 'Move up' })).toBeInTheDocument();
    await userEvent.keyboard('{Escape}');
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    expect(options).toHaveFocus();
  });
});
