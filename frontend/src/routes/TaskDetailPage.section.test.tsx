// The task detail's Section field: a native select (touch and keyboard) whose change is
// queued like every other task edit (If-Match, offline, conflicts, refusals shown).
import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Route } from 'wouter';
import { setCsrfToken } from '../api/http';
import type { Section } from '../api/types';
import { AuthProvider } from '../auth/AuthContext';
import { dropTaskwellDB } from '../offline/db';
import { FakeServer, makeTask } from '../test/fakeServer';
import { PROJECT_DEFAULTS, USER, fakeApi, json, problemJson } from '../test/fixtures';
import { renderAt, testWorkspace, withWorkspace } from '../test/render';
import type { Workspace } from '../tasks/workspace';
import TaskDetailPage from './TaskDetailPage';

const HOME = '11111111-1111-4111-8111-111111111111';
const WORK = '22222222-2222-4222-8222-222222222222';

let server: FakeServer;
let workspace: Workspace & { dbName: string };
let api: ReturnType<typeof fakeApi>;
let role: 'owner' | 'viewer';
let sections: Record<string, Section[] | 'refused'>;

function section(id: string, project_id: string, name: string, position: number): Section {
  return { id, project_id, name, position, version: 1, created_at: '', updated_at: '' };
}

beforeEach(async () => {
  setCsrfToken('csrf');
  server = new FakeServer();
  workspace = await testWorkspace(server);
  role = 'owner';
  // Sent out of order: the field lists them as the board does, by position.
  sections = {
    [HOME]: [section('s2', HOME, 'Done', 2048), section('s1', HOME, 'Doing', 1024)],
    [WORK]: [section('w1', WORK, 'Review', 1024)],
  };
  api = fakeApi([
    [
      'GET',
      /\/projects\?archived=false$/,
      () =>
        json(200, {
          items: [
            { ...PROJECT_DEFAULTS, id: HOME, name: 'Home', role },
            { ...PROJECT_DEFAULTS, id: WORK, name: 'Work', role },
          ],
        }),
    ],
    [
      'GET',
      /\/projects\/([^/]+)\/sections$/,
      (m) => {
        const items = sections[m[1]!] ?? [];
        return items === 'refused'
          ? problemJson(404, 'project-not-found', 'No project with this id.')
          : json(200, { items });
      },
    ],
    ['GET', /\/projects\/[^/]+\/members$/, () => json(200, { items: [] })],
    ['GET', /\/labels$/, () => json(200, { items: [] })],
    ['GET', /\/tasks\?parent_id=/, () => json(200, { items: [], next_cursor: null })],
    ['GET', /\/tasks\/[^/]+\/comments$/, () => json(200, { items: [], next_cursor: null })],
    [
      'GET',
      /\/tasks\/([^/?]+)$/,
      (m) => {
        const task = server.tasks.get(decodeURIComponent(m[1]!));
        return task ? json(200, task) : problemJson(404, 'task-not-found');
      },
    ],
  ]);
  vi.stubGlobal('fetch', vi.fn(api.fetch));
});

afterEach(async () => {
  await waitFor(() => expect(workspace.queue.isFlushing).toBe(false));
  vi.unstubAllGlobals();
  await dropTaskwellDB(workspace.dbName);
  await dropTaskwellDB();
});

function seed(section_id: string | null = null, project_id = HOME) {
  return server.seed(makeTask({ title: 'Fix tap', project_id, section_id, version: 3 }));
}

async function openTask(id: string) {
  renderAt(
    `/tasks/${id}`,
    <AuthProvider initial={{ status: 'signed-in', user: USER, offline: false }}>
      {withWorkspace(workspace, <Route path="/tasks/:id" component={TaskDetailPage} />)}
    </AuthProvider>,
  );
  await screen.findByRole('heading', { level: 1, name: 'Fix tap' });
  await screen.findByText('No comments yet.');
}

const field = () => screen.findByRole('combobox', { name: 'Section' });
const optionNames = (select: HTMLElement) =>
  within(select)
    .getAllByRole('option')
    .map((o) => o.textContent);
const announced = () => document.querySelector('.section-field [aria-live="polite"]')?.textContent;

describe('the Section field', () => {
  it('lists "No section" and the sections in board order, showing the current one', async () => {
    await openTask(seed('s2').id);

    const select = await field();
    expect(optionNames(select)).toEqual(['No section', 'Doing', 'Done']);
    expect(select).toHaveDisplayValue('Done');
    expect(screen.getByText('Section').tagName).toBe('LABEL');
  });

  it('moves the task through the queue with If-Match, and announces it', async () => {
    const task = seed();
    await openTask(task.id);

    await userEvent.selectOptions(await field(), 'Doing');

    expect(await field()).toHaveDisplayValue('Doing');
    expect(announced()).toBe('Moved to Doing.');
    await waitFor(() => expect(server.tasks.get(task.id)!.section_id).toBe('s1'));
    await userEvent.selectOptions(await field(), 'No section');

    await waitFor(() => expect(server.tasks.get(task.id)!.section_id).toBeNull());
    expect(announced()).toBe('Moved to No section.');
    expect(server.writes()).toEqual([
      expect.objectContaining({ method: 'PATCH', id: task.id, ifMatch: 3, body: { section_id: 's1' } }),
      expect.objectContaining({ method: 'PATCH', id: task.id, ifMatch: 4, body: { section_id: null } }),
    ]);
  });

  it('offline, shows the new section at once, not synced yet, and sends it once back online', async () => {
    const task = seed();
    await openTask(task.id);
    server.failNext('network');

    await userEvent.selectOptions(await field(), 'Done');
    await waitFor(() => expect(workspace.queue.isFlushing).toBe(false));

    expect(await field()).toHaveDisplayValue('Done');
    expect(screen.getByText('Not synced yet')).toBeInTheDocument();
    expect(server.tasks.get(task.id)!.section_id).toBeNull();

    await act(() => workspace.queue.flush());

    expect(server.tasks.get(task.id)!.section_id).toBe('s2');
    expect(server.writes().at(-1)).toEqual(expect.objectContaining({ ifMatch: 3, body: { section_id: 's2' } }));
    await waitFor(() => expect(screen.queryByText('Not synced yet')).not.toBeInTheDocument());
  });

  it('stops at a conflict with both versions when the task changed elsewhere (412)', async () => {
    const task = seed();
    await openTask(task.id);
    server.editElsewhere(task.id, { title: 'Fix tap targets' });

    await userEvent.selectOptions(await field(), 'Doing');

    await waitFor(() => expect(workspace.queue.conflict).not.toBeNull());
    expect(workspace.queue.conflict).toEqual(
      expect.objectContaining({
        mine: expect.objectContaining({ section_id: 's1', title: 'Fix tap' }),
        theirs: expect.objectContaining({ section_id: null, title: 'Fix tap targets', version: 4 }),
      }),
    );
    expect(server.tasks.get(task.id)!.section_id).toBeNull();
  });

  it("shows the API's problem detail when the server refuses the section", async () => {
    const task = seed();
    await openTask(task.id);
    server.failNext({ status: 422, type: 'validation-error' });

    await userEvent.selectOptions(await field(), 'Doing');

    expect(await screen.findByText('validation-error (test)')).toHaveAttribute('role', 'alert');
    expect(await field()).toHaveDisplayValue('No section');
    expect(server.tasks.get(task.id)!.section_id).toBeNull();
  });

  it("lists the new project's sections once the task is moved to another project", async () => {
    const task = seed('s1');
    await openTask(task.id);
    expect(await field()).toHaveDisplayValue('Doing');

    await userEvent.click(screen.getByRole('button', { name: 'Edit details' }));
    await userEvent.selectOptions(screen.getByRole('combobox', { name: 'Project' }), 'Work');
    await userEvent.click(screen.getByRole('button', { name: 'Save' }));

    await waitFor(() =>
      expect(optionNames(screen.getByRole('combobox', { name: 'Section' }))).toEqual(['No section', 'Review']),
    );
    expect(await field()).toHaveDisplayValue('No section');
    await userEvent.selectOptions(await field(), 'Review');
    await waitFor(() =>
      expect(server.tasks.get(task.id)).toEqual(expect.objectContaining({ project_id: WORK, section_id: 'w1' })),
    );
  });

  it('shows a viewer the section as text, with nothing to change it', async () => {
    role = 'viewer';
    await openTask(seed('s1').id);

    await screen.findByRole('link', { name: 'Home' });
    await waitFor(() => expect(screen.getByText('Section').tagName).toBe('DT'));
    expect(screen.getByText('Section').nextElementSibling).toHaveTextContent(/^Doing$/);
    expect(screen.queryByRole('combobox', { name: 'Section' })).not.toBeInTheDocument();
  });

  it('is left out while the project has no sections, and comes with the first one', async () => {
    sections[HOME] = [];
    await openTask(seed().id);
    await waitFor(() =>
      expect(api.calls).toContainEqual(expect.objectContaining({ url: `/api/v1/projects/${HOME}/sections` })),
    );
    await act(() => Promise.resolve());
    expect(screen.queryByText('Section')).not.toBeInTheDocument();

    const doing = section('s1', HOME, 'Doing', 1024);
    act(() => workspace.changes.publish([{ entity: 'section', id: doing.id, op: 'upsert', data: doing }]));

    expect(optionNames(await field())).toEqual(['No section', 'Doing']);
  });

  it("shows the API's problem detail when the sections cannot be read", async () => {
    sections[HOME] = 'refused';
    await openTask(seed().id);

    expect(await screen.findByText('No project with this id.')).toHaveAttribute('role', 'alert');
    expect(screen.queryByRole('combobox', { name: 'Section' })).not.toBeInTheDocument();
  });
});
