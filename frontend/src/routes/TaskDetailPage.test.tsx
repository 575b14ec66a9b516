// The task detail page: Markdown rendered safely, edits queued with If-Match.
import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Route } from 'wouter';
import { setCsrfToken } from '../api/http';
import { dropTaskwellDB } from '../offline/db';
import type { Comment } from '../api/types';
import { AuthProvider } from '../auth/AuthContext';
import { FakeServer, INBOX_ID, makeTask } from '../test/fakeServer';
import { PROJECT_DEFAULTS, USER, fakeApi, json, problemJson } from '../test/fixtures';
import { renderAt, testWorkspace, withWorkspace } from '../test/render';
import type { Workspace } from '../tasks/workspace';
import TaskDetailPage from './TaskDetailPage';

let server: FakeServer;
let workspace: Workspace & { dbName: string };
let api: ReturnType<typeof fakeApi>;
let comments: Comment[];
let role: 'owner' | 'viewer';

const PROJECT_ID = INBOX_ID;
const LABEL = { id: 'l1', name: 'Errand', color: null, version: 1, created_at: '', updated_at: '' };
const BOB = { user_id: 'u2', email: 'bob@example.com', display_name: 'Bob', role: 'editor', joined_at: '' };

function comment(overrides: Partial<Comment>): Comment {
  return {
    id: `c${comments.length + 1}`,
    task_id: '',
    author_id: USER.id,
    body: '',
    version: 1,
    created_at: '2030-01-01T00:00:00Z',
    updated_at: '2030-01-01T00:00:00Z',
    edited: false,
    ...overrides,
  };
}

beforeEach(async () => {
  setCsrfToken('csrf');
  server = new FakeServer();
  workspace = await testWorkspace(server);
  comments = [];
  role = 'owner';
  // The page reads the task, its project, labels, members, subtasks and comments through
  // the API client (its Inbox has no sections); task writes go through the queue to the fake server.
  api = fakeApi([
    [
      'GET',
      /\/projects\?archived=false$/,
      () => json(200, { items: [{ ...PROJECT_DEFAULTS, id: PROJECT_ID, name: 'Inbox', is_inbox: true, role }] }),
    ],
    [
      'GET',
      /\/projects\/[^/]+\/members$/,
      () => json(200, { items: [{ ...BOB, user_id: USER.id, display_name: 'Ada', role: 'owner' }, BOB] }),
    ],
    ['GET', /\/projects\/[^/]+\/sections$/, () => json(200, { items: [] })],
    ['GET', /\/labels$/, () => json(200, { items: [LABEL] })],
    ['POST', /\/labels$/, (_, body) => json(201, { ...LABEL, id: 'l2', ...(body as object) })],
    [
      'GET',
      /\/tasks\?parent_id=([^&]+)/,
      (m) => json(200, { items: [...server.tasks.values()].filter((t) => t.parent_id === m[1]), next_cursor: null }),
    ],
    ['GET', /\/tasks\/[^/]+\/comments$/, () => json(200, { items: comments, next_cursor: null })],
    ['POST', /\/tasks\/([^/]+)\/comments$/, (m, body) => json(201, comment({ task_id: m[1], ...(body as object) }))],
    [
      'PATCH',
      /\/comments\/([^/]+)$/,
      (m, body) => json(200, { ...comments.find((c) => c.id === m[1]), ...(body as object), edited: true }),
    ],
    ['DELETE', /\/comments\/[^/]+$/, () => json(204, null)],
    [
      'GET',
      /\/tasks\/([^/?]+)$/,
      (m) => {
        const task = server.tasks.get(decodeURIComponent(m[1]!));
        return task ? json(200, task) : problemJson(404, 'task-not-found', 'No task with this id.');
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

function renderDetail(id: string) {
  return renderAt(
    `/tasks/${id}`,
    <AuthProvider initial={{ status: 'signed-in', user: USER, offline: false }}>
      {withWorkspace(workspace, <Route path="/tasks/:id" component={TaskDetailPage} />)}
    </AuthProvider>,
  );
}

describe('TaskDetailPage', () => {
  it('renders the description as Markdown, with HTML escaped', async () => {
    const task = server.seed(
      makeTask({ title: 'Read', description: '## Notes\n\n*one*\n\n<img src=x onerror=alert(1)>' }),
    );
    renderDetail(task.id);

    expect(await screen.findByRole('heading', { level: 1, name: 'Read' })).toBeInTheDocument();
    expect(screen.getByRole('heading', { level: 2, name: 'Notes' })).toBeInTheDocument();
    expect(document.querySelector('.markdown img')).toBeNull();
    expect(screen.getByText('<img src=x onerror=alert(1)>')).toBeInTheDocument();
  });

  it('saves changed fields only, with If-Match', async () => {
    const task = server.seed(makeTask({ title: 'Trip', version: 5 }));
    renderDetail(task.id);

    await userEvent.click(await screen.findByRole('button', { name: 'Edit details' }));
    await userEvent.type(screen.getByLabelText('Description'), 'Pack **light**');
    await userEvent.selectOptions(screen.getByLabelText('Priority'), 'High');
    await userEvent.click(screen.getByRole('button', { name: 'Save' }));

    await waitFor(() =>
      expect(server.tasks.get(task.id)).toEqual(
        expect.objectContaining({ description: 'Pack **light**', priority: 3, version: 6 }),
      ),
    );
    expect(server.writes()).toEqual([
      expect.objectContaining({ method: 'PATCH', ifMatch: 5, body: { description: 'Pack **light**', priority: 3 } }),
    ]);
    expect((await screen.findByText('light')).tagName).toBe('STRONG');
  });

  it('says when there is no such task', async () => {
    renderDetail('00000000-0000-4000-8000-999999999999');
    expect(await screen.findByRole('alert')).toHaveTextContent('There is no such task.');
  });

  it('shows a task created offline by its local id', async () => {
    const ref = await workspace.queue.create({ title: 'Made offline', description: 'on the *train*' });
    renderDetail(ref);

    expect(await screen.findByRole('heading', { level: 1, name: 'Made offline' })).toBeInTheDocument();
    expect(screen.getByText('Not synced yet')).toBeInTheDocument();
  });
});

describe('labels, subtasks and comments', () => {
  it('sets a label through the queue, with If-Match', async () => {
    const task = server.seed(makeTask({ title: 'Post letter', version: 2 }));
    renderDetail(task.id);

    await userEvent.click(await screen.findByRole('checkbox', { name: 'Errand' }));

    await waitFor(() => expect(server.tasks.get(task.id)!.labels).toEqual(['l1']));
    expect(server.writes()).toEqual([
      expect.objectContaining({ method: 'PATCH', ifMatch: 2, body: { labels: ['l1'] } }),
    ]);
    expect(screen.getByRole('checkbox', { name: 'Errand' })).toBeChecked();
  });

  it('says why a new label name would be refused, without asking the server', async () => {
    const task = server.seed(makeTask({ title: 'Call bank' }));
    renderDetail(task.id);
    await screen.findByRole('checkbox', { name: 'Errand' });

    await userEvent.type(screen.getByRole('textbox', { name: 'New label' }), 'home, garden{Enter}');

    expect(await screen.findByText(/cannot contain a comma/)).toBeInTheDocument();
    expect(api.calls).not.toContainEqual(expect.objectContaining({ method: 'POST', body: expect.anything() }));
    expect(server.tasks.get(task.id)!.labels ?? []).toEqual([]);
  });

  it('makes a new label and puts it on the task', async () => {
    const task = server.seed(makeTask({ title: 'Call bank' }));
    renderDetail(task.id);
    await screen.findByRole('checkbox', { name: 'Errand' });

    await userEvent.type(screen.getByRole('textbox', { name: 'New label' }), 'Money{Enter}');

    await waitFor(() => expect(server.tasks.get(task.id)!.labels).toEqual(['l2']));
    expect(api.calls).toContainEqual(expect.objectContaining({ method: 'POST', body: { name: 'Money', color: null } }));
  });

  it('lists subtasks and adds one in the same project, under this task', async () => {
    const task = server.seed(makeTask({ title: 'Move house' }));
    server.seed(makeTask({ title: 'Book van', parent_id: task.id }));
    renderDetail(task.id);

    const list = await screen.findByRole('list', { name: 'Subtasks' });
    expect(await within(list).findByRole('checkbox', { name: 'Complete Book van' })).toBeInTheDocument();
    await userEvent.type(screen.getByRole('textbox', { name: 'New subtask' }), 'Pack books{Enter}');

    await waitFor(() =>
      expect(
        within(screen.getByRole('list', { name: 'Subtasks' })).getByRole('checkbox', { name: 'Complete Pack books' }),
      ).toBeInTheDocument(),
    );
    await waitFor(() =>
      expect(server.writes()).toEqual([
        expect.objectContaining({
          method: 'POST',
          body: expect.objectContaining({ title: 'Pack books', parent_id: task.id, project_id: PROJECT_ID }),
        }),
      ]),
    );
  });

  it("shows comments as Markdown with their authors; edits and deletes only one's own", async () => {
    const task = server.seed(makeTask({ title: 'Plan trip' }));
    comments.push(comment({ id: 'c1', author_id: BOB.user_id, body: 'Try **Lisbon**' }));
    comments.push(comment({ id: 'c2', body: 'Booked' }));
    renderDetail(task.id);

    const bobs = await screen.findByRole('article', { name: 'Bob' });
    expect(within(bobs).getByText('Lisbon').tagName).toBe('STRONG');
    expect(within(bobs).queryByRole('button', { name: 'Edit comment' })).not.toBeInTheDocument();
    const mine = screen.getByRole('article', { name: 'You' });

    await userEvent.click(within(mine).getByRole('button', { name: 'Edit comment' }));
    const box = within(mine).getByRole('textbox', { name: 'Edit comment' });
    await userEvent.clear(box);
    await userEvent.type(box, 'Booked _twice_');
    await userEvent.click(within(mine).getByRole('button', { name: 'Save' }));
    expect(await within(mine).findByText('twice')).toBeInTheDocument();
    expect(within(mine).getByText('(edited)')).toBeInTheDocument();

    await userEvent.click(within(mine).getByRole('button', { name: 'Delete comment' }));
    await waitFor(() => expect(screen.queryByRole('article', { name: 'You' })).not.toBeInTheDocument());
    expect(api.calls.filter((c) => c.method !== 'GET').map((c) => `${c.method} ${c.url}`)).toEqual([
      `PATCH /api/v1/tasks/${task.id}/comments/c2`,
      `DELETE /api/v1/tasks/${task.id}/comments/c2`,
    ]);
  });

  it('adds a comment', async () => {
    const task = server.seed(makeTask({ title: 'Paint fence' }));
    renderDetail(task.id);
    await screen.findByText('No comments yet.');

    await userEvent.type(screen.getByRole('textbox', { name: 'Add a comment' }), 'Use *white*');
    await userEvent.click(screen.getByRole('button', { name: 'Comment' }));

    const added = await screen.findByRole('article', { name: 'You' });
    expect(within(added).getByText('white').tagName).toBe('EM');
    expect(screen.getByRole('textbox', { name: 'Add a comment' })).toHaveValue('');
  });

  it('gives a viewer no way to change the task or comment', async () => {
    role = 'viewer';
    const task = server.seed(makeTask({ title: 'Read only' }));
    renderDetail(task.id);

    expect(await screen.findByRole('link', { name: 'Inbox' })).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Edit details' })).not.toBeInTheDocument();
    expect(screen.queryByRole('textbox', { name: 'Add a comment' })).not.toBeInTheDocument();
    expect(screen.queryByRole('textbox', { name: 'New subtask' })).not.toBeInTheDocument();
  });
});
