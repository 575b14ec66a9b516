// Screens with a copy of their own follow changes made elsewhere without a reload: the open
// task, its subtasks and comments, and a board's sections.
import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Route } from 'wouter';
import { setCsrfToken } from '../api/http';
import type { Change, ChangeEntity, Comment, Section } from '../api/types';
import { AuthProvider } from '../auth/AuthContext';
import { dropTaskwellDB } from '../offline/db';
import TaskDetailPage from '../routes/TaskDetailPage';
import TasksPage from '../routes/TasksPage';
import { FakeServer, INBOX_ID, makeTask } from '../test/fakeServer';
import { PROJECT_DEFAULTS, USER, fakeApi, json, problemJson } from '../test/fixtures';
import { renderAt, testWorkspace, withWorkspace } from '../test/render';
import type { Workspace } from '../tasks/workspace';

const BOARD = '11111111-1111-4111-8111-111111111111';
const upsert = <T extends { id: string }>(entity: ChangeEntity, data: T): Change => ({
  entity,
  id: data.id,
  op: 'upsert',
  data,
});
const remove = (entity: ChangeEntity, id: string): Change => ({ entity, id, op: 'delete' });

let server: FakeServer;
let workspace: Workspace & { dbName: string };
let comments: Comment[];
let sections: Section[];

function comment(id: string, task_id: string, body: string, author_id = 'u2'): Comment {
  const at = '2031-01-01T00:00:00Z';
  return { id, task_id, author_id, body, version: 1, created_at: at, updated_at: at, edited: false };
}

function section(id: string, name: string, position: number): Section {
  return { id, project_id: BOARD, name, position, version: 1, created_at: '', updated_at: '' };
}

/** The stream brings these changes (as live/apply.ts hands them to the screens). */
function arrive(...changes: Change[]): void {
  act(() => workspace.changes.publish(changes));
}

beforeEach(async () => {
  setCsrfToken('csrf');
  server = new FakeServer();
  workspace = await testWorkspace(server, async (params) => ({
    items: [...server.tasks.values()].filter((t) => !params.project_id || t.project_id === params.project_id),
    next_cursor: null,
  }));
  comments = [];
  sections = [section('s1', 'Doing', 1024)];
  const api = fakeApi([
    [
      'GET',
      /\/projects\?archived=false$/,
      () =>
        json(200, {
          items: [
            { ...PROJECT_DEFAULTS, id: INBOX_ID, name: 'Inbox', is_inbox: true },
            { ...PROJECT_DEFAULTS, id: BOARD, name: 'Home' },
          ],
        }),
    ],
    ['GET', /\/projects\/[^/]+\/members$/, () => json(200, { items: [] })],
    ['GET', /\/projects\/[^/]+\/sections$/, () => json(200, { items: sections })],
    ['GET', /\/labels$/, () => json(200, { items: [] })],
    [
      'GET',
      /\/tasks\?parent_id=([^&]+)/,
      (m) => json(200, { items: [...server.tasks.values()].filter((t) => t.parent_id === m[1]), next_cursor: null }),
    ],
    ['GET', /\/tasks\/[^/]+\/comments$/, () => json(200, { items: comments, next_cursor: null })],
    [
      'POST',
      /\/tasks\/([^/]+)\/comments$/,
      (m, body) => json(201, comment('c-mine', m[1]!, (body as Comment).body, USER.id)),
    ],
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

async function openTask(id: string, title: string) {
  renderAt(
    `/tasks/${id}`,
    <AuthProvider initial={{ status: 'signed-in', user: USER, offline: false }}>
      {withWorkspace(workspace, <Route path="/tasks/:id" component={TaskDetailPage} />)}
    </AuthProvider>,
  );
  await screen.findByRole('heading', { level: 1, name: title });
  await screen.findByText('No comments yet.'); // everything on the page has loaded
}

describe('the open task', () => {
  it('shows an edit made elsewhere', async () => {
    const task = server.seed(makeTask({ title: 'Before' }));
    await openTask(task.id, 'Before');

    arrive(upsert('task', { ...task, title: 'After', description: 'Changed on the phone', version: 2 }));

    expect(await screen.findByRole('heading', { level: 1, name: 'After' })).toBeInTheDocument();
    expect(screen.getByText('Changed on the phone')).toBeInTheDocument();
  });

  it("keeps this device's queued edit on top of a newer copy from elsewhere", async () => {
    const task = server.seed(makeTask({ title: 'Before', priority: 0 }));
    await openTask(task.id, 'Before');
    server.failNext('network');
    await act(() => workspace.list.change(task, { title: 'Mine, not sent yet' }));
    await waitFor(() => expect(workspace.queue.isFlushing).toBe(false));

    arrive(upsert('task', { ...task, title: 'Theirs', priority: 4, version: 2 }));

    expect(await screen.findByRole('heading', { level: 1, name: 'Mine, not sent yet' })).toBeInTheDocument();
    expect(screen.getByText('Urgent')).toBeInTheDocument();
    expect(screen.getByText('Not synced yet')).toBeInTheDocument();
  });

  it('says so when the task is deleted elsewhere', async () => {
    const task = server.seed(makeTask({ title: 'Doomed' }));
    await openTask(task.id, 'Doomed');

    arrive(remove('task', task.id));

    expect(await screen.findByRole('heading', { level: 1, name: 'Task not found' })).toBeInTheDocument();
    expect(screen.getByRole('alert')).toHaveTextContent('This task was deleted, or you can no longer see it.');
  });

  it('shows subtasks added elsewhere, and drops those moved away or deleted', async () => {
    const parent = server.seed(makeTask({ title: 'Parent' }));
    const child = server.seed(makeTask({ title: 'Old child', parent_id: parent.id }));
    await openTask(parent.id, 'Parent');
    const subtasks = await screen.findByRole('list', { name: 'Subtasks' });
    expect(within(subtasks).getByRole('link', { name: 'Old child' })).toBeInTheDocument();

    arrive(upsert('task', makeTask({ title: 'New child', parent_id: parent.id })), remove('task', child.id));

    await waitFor(() => expect(within(subtasks).queryByRole('link', { name: 'Old child' })).not.toBeInTheDocument());
    expect(within(subtasks).getByRole('link', { name: 'New child' })).toBeInTheDocument();
  });
});

describe('comments', () => {
  it("shows others' comments as they are written, edited and deleted, for this task only", async () => {
    const task = server.seed(makeTask({ title: 'Discussed' }));
    await openTask(task.id, 'Discussed');

    arrive(upsert('comment', comment('c1', task.id, 'First!')), upsert('comment', comment('c9', 'other', 'Elsewhere')));
    expect(await screen.findByText('First!')).toBeInTheDocument();
    expect(screen.queryByText('Elsewhere')).not.toBeInTheDocument();

    arrive(upsert('comment', { ...comment('c1', task.id, 'First, edited'), version: 2, edited: true }));
    expect(await screen.findByText('First, edited')).toBeInTheDocument();

    arrive(remove('comment', 'c1'));
    expect(await screen.findByText('No comments yet.')).toBeInTheDocument();
  });

  it('shows my own comment once when the stream tells of it before the answer comes', async () => {
    const task = server.seed(makeTask({ title: 'Discussed' }));
    await openTask(task.id, 'Discussed');
    await userEvent.type(await screen.findByLabelText('Add a comment'), 'On my way');
    arrive(upsert('comment', comment('c-mine', task.id, 'On my way', USER.id)));

    await userEvent.click(screen.getByRole('button', { name: 'Comment' }));

    await waitFor(() => expect(screen.getByLabelText('Add a comment')).toHaveValue(''));
    expect(screen.getAllByText('On my way')).toHaveLength(1);
  });

  it('reads the comments again when everything is to be read again', async () => {
    const task = server.seed(makeTask({ title: 'Discussed' }));
    await openTask(task.id, 'Discussed');
    comments = [comment('c1', task.id, 'Missed while the token expired')];

    act(() => workspace.changes.reloadAll());

    expect(await screen.findByText('Missed while the token expired')).toBeInTheDocument();
  });
});

describe("a board's sections", () => {
  it('shows sections added, renamed and deleted elsewhere', async () => {
    await workspace.projects.load();
    renderAt(`/tasks?project=${BOARD}&view=board`, withWorkspace(workspace, <TasksPage />));
    await screen.findByRole('region', { name: 'Doing' });

    arrive(upsert('section', section('s2', 'Done', 2048)));
    expect(await screen.findByRole('region', { name: 'Done' })).toBeInTheDocument();

    arrive(upsert('section', { ...section('s1', 'Doing now', 1024), version: 2 }), remove('section', 's2'));
    expect(await screen.findByRole('region', { name: 'Doing now' })).toBeInTheDocument();
    expect(screen.queryByRole('region', { name: 'Done' })).not.toBeInTheDocument();
  });
});
