// The task list screen wired to a real queue and the fake API: the flows the e2e tests drive.
import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { TaskPage } from '../api/types';
import { setCsrfToken } from '../api/http';
import { AuthProvider } from '../auth/AuthContext';
import { dropTaskwellDB } from '../offline/db';
import { PROJECT_DEFAULTS, USER, fakeApi, json } from '../test/fixtures';
import { FakeServer, makeTask } from '../test/fakeServer';
import { renderAt, testWorkspace, withWorkspace } from '../test/render';
import type { Workspace } from '../tasks/workspace';
import TasksPage from './TasksPage';

let server: FakeServer;
let workspace: Workspace & { dbName: string };

async function renderTasks(path = '/tasks') {
  const result = renderAt(path, withWorkspace(workspace, <TasksPage />));
  await screen.findByRole('heading', { name: 'Tasks' });
  return result;
}

beforeEach(async () => {
  server = new FakeServer();
  workspace = await testWorkspace(server);
});

afterEach(async () => {
  await waitFor(() => expect(workspace.queue.isFlushing).toBe(false));
  await dropTaskwellDB(workspace.dbName);
});

describe('TasksPage', () => {
  it('lists the tasks', async () => {
    server.seed(makeTask({ title: 'Water plants' }));
    await renderTasks();

    const list = screen.getByRole('list', { name: 'Tasks' });
    expect(await within(list).findByRole('listitem')).toHaveTextContent('Water plants');
  });

  it('creates a task with Enter in "New task"', async () => {
    await renderTasks();

    await userEvent.type(screen.getByRole('textbox', { name: 'New task' }), 'Buy milk{Enter}');

    expect(await screen.findByRole('checkbox', { name: 'Complete Buy milk' })).toBeInTheDocument();
    await waitFor(() => expect([...server.tasks.values()].map((t) => t.title)).toEqual(['Buy milk']));
    expect(screen.getByRole('textbox', { name: 'New task' })).toHaveValue('');
    await waitFor(() => expect(screen.queryByText('Not synced')).not.toBeInTheDocument());
  });

  it('completes a task with one click, sending If-Match', async () => {
    const task = server.seed(makeTask({ title: 'Call mum', version: 3 }));
    await renderTasks();

    await userEvent.click(await screen.findByRole('checkbox', { name: 'Complete Call mum' }));

    await waitFor(() => expect(server.tasks.get(task.id)!.status).toBe('done'));
    expect(server.writes()[0]).toEqual(expect.objectContaining({ method: 'PATCH', ifMatch: 3 }));
    expect(screen.getByRole('checkbox', { name: 'Complete Call mum' })).toBeChecked();
  });

  it('edits a title in place', async () => {
    const task = server.seed(makeTask({ title: 'Old title' }));
    await renderTasks();

    await userEvent.click(await screen.findByRole('button', { name: 'Edit Old title' }));
    const input = screen.getByRole('textbox', { name: 'Title' });
    await userEvent.clear(input);
    await userEvent.type(input, 'New title{Enter}');

    expect(await screen.findByRole('button', { name: 'Edit New title' })).toBeInTheDocument();
    await waitFor(() => expect(server.tasks.get(task.id)!.title).toBe('New title'));
  });

  it('deletes with an Undo toast; Undo brings the task back and nothing is sent', async () => {
    const task = server.seed(makeTask({ title: 'Maybe later' }));
    await renderTasks();

    await userEvent.click(await screen.findByRole('button', { name: 'Delete Maybe later' }));

    expect(screen.queryByRole('checkbox', { name: 'Complete Maybe later' })).not.toBeInTheDocument();
    const toast = screen.getByRole('status');
    expect(toast).toHaveTextContent('Deleted “Maybe later”.');
    await userEvent.click(within(toast).getByRole('button', { name: 'Undo' }));

    expect(screen.getByRole('checkbox', { name: 'Complete Maybe later' })).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Undo' })).not.toBeInTheDocument();
    expect(server.tasks.has(task.id)).toBe(true);
    expect(server.writes()).toHaveLength(0);
  });

  it('deletes for real when the toast is dismissed', async () => {
    const task = server.seed(makeTask({ title: 'Gone' }));
    await renderTasks();

    await userEvent.click(await screen.findByRole('button', { name: 'Delete Gone' }));
    await userEvent.click(screen.getByRole('button', { name: 'Dismiss' }));

    await waitFor(() => expect(server.tasks.has(task.id)).toBe(false));
  });

  it('puts the filters in the URL and asks the API with them', async () => {
    const listTasks = vi.fn(async (): Promise<TaskPage> => ({ items: [], next_cursor: null }));
    workspace = await testWorkspace(server, listTasks);
    const { location } = await renderTasks();

    await userEvent.selectOptions(screen.getByRole('combobox', { name: 'Status' }), 'done');
    await userEvent.selectOptions(screen.getByRole('combobox', { name: 'Sort' }), 'due_at');

    await waitFor(() =>
      expect(listTasks).toHaveBeenLastCalledWith(expect.objectContaining({ status: 'done', sort: 'due_at' })),
    );
    expect(location.history!.at(-1)).toBe('/tasks?status=done&sort=due_at');
    expect(await screen.findByText('No tasks match these filters.')).toBeInTheDocument();
  });

  it('reads the filters from the URL on arrival', async () => {
    const listTasks = vi.fn(async (): Promise<TaskPage> => ({ items: [], next_cursor: null }));
    workspace = await testWorkspace(server, listTasks);
    await renderTasks('/tasks?priority=4&q=tax');

    expect(screen.getByRole('combobox', { name: 'Priority' })).toHaveValue('4');
    expect(screen.getByRole('searchbox', { name: 'Search' })).toHaveValue('tax');
    expect(listTasks).toHaveBeenCalledWith(expect.objectContaining({ priority: '4', q: 'tax' }));
  });

  it('loads the next page with the "Load more" button (when IntersectionObserver is absent)', async () => {
    const [a, b] = [makeTask({ title: 'Page one' }), makeTask({ title: 'Page two' })];
    const listTasks = vi.fn(async (params: { cursor?: string | null }): Promise<TaskPage> =>
      params.cursor === 'next' ? { items: [b!], next_cursor: null } : { items: [a!], next_cursor: 'next' },
    );
    workspace = await testWorkspace(server, listTasks);
    await renderTasks();

    await userEvent.click(await screen.findByRole('button', { name: 'Load more' }));

    expect(await screen.findByText('Page two')).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Load more' })).not.toBeInTheDocument();
  });
});

describe('keyboard', () => {
  it('n focuses "New task", / focuses Search', async () => {
    await renderTasks();

    await userEvent.keyboard('n');
    expect(screen.getByRole('textbox', { name: 'New task' })).toHaveFocus();
    expect(screen.getByRole('textbox', { name: 'New task' })).toHaveValue(''); // the key was not typed

    screen.getByRole('textbox', { name: 'New task' }).blur();
    await userEvent.keyboard('/');
    expect(screen.getByRole('searchbox', { name: 'Search' })).toHaveFocus();
  });

  it('j / k move between tasks, x completes, e edits, Delete deletes', async () => {
    const first = server.seed(makeTask({ title: 'First' }));
    server.seed(makeTask({ title: 'Second' }));
    await renderTasks();
    await screen.findByText('First');
    const items = () => screen.getAllByRole('listitem');

    await userEvent.keyboard('j');
    expect(items()[0]).toHaveFocus(); // newest first: "Second"
    await userEvent.keyboard('j');
    expect(items()[1]).toHaveFocus();
    await userEvent.keyboard('k');
    await userEvent.keyboard('j');
    expect(items()[1]).toHaveTextContent('First');

    await userEvent.keyboard('x');
    await waitFor(() => expect(server.tasks.get(first.id)!.status).toBe('done'));

    await userEvent.keyboard('e');
    const input = screen.getByRole('textbox', { name: 'Title' });
    expect(input).toHaveFocus();
    await userEvent.keyboard('{Escape}');
    expect(screen.getByRole('button', { name: 'Edit First' })).toHaveFocus();

    await userEvent.keyboard('{Delete}');
    expect(screen.queryByText('First')).not.toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Undo' })).toBeInTheDocument();
    await userEvent.keyboard('z');
    expect(screen.getByText('First')).toBeInTheDocument();
  });

  it('keeps the keyboard in the list when a completed task leaves a filtered view', async () => {
    server.seed(makeTask({ title: 'First' }));
    server.seed(makeTask({ title: 'Second' }));
    await renderTasks('/tasks?status=todo');
    await screen.findByRole('checkbox', { name: 'Complete Second' });
    const titles = () => screen.getAllByRole('checkbox').map((box) => box.getAttribute('aria-label'));
    const [first, second] = titles();

    await userEvent.keyboard('j');
    await userEvent.keyboard('x');

    // The completed task does not match "To do" any more: it goes at once, the focus moves on.
    await waitFor(() => expect(titles()).toEqual([second]));
    expect(document.activeElement).toBe(screen.getAllByRole('listitem')[0]);
    expect(first).not.toBe(second);
  });

  it('shows a task created in a searched view only if it matches the search', async () => {
    await renderTasks('/tasks?q=milk');

    await userEvent.type(screen.getByRole('textbox', { name: 'New task' }), 'Call the plumber{Enter}');
    await userEvent.type(screen.getByRole('textbox', { name: 'New task' }), 'Buy milk{Enter}');

    expect(await screen.findByRole('checkbox', { name: 'Complete Buy milk' })).toBeInTheDocument();
    expect(screen.queryByRole('checkbox', { name: 'Complete Call the plumber' })).not.toBeInTheDocument();
  });
});

describe('projects and labels', () => {
  const P = '11111111-1111-4111-8111-111111111111';
  const LABEL = {
    id: '22222222-2222-4222-8222-222222222222',
    name: 'Urgent',
    color: '#b91c1c',
    version: 1,
    created_at: '',
    updated_at: '',
  };

  beforeEach(() => {
    setCsrfToken('csrf');
    const api = fakeApi([
      [
        'GET',
        /\/projects\?archived=false$/,
        () => json(200, { items: [{ ...PROJECT_DEFAULTS, id: P, name: 'Garden' }] }),
      ],
      ['GET', /\/labels$/, () => json(200, { items: [LABEL] })],
      ['GET', /\/members$/, () => json(200, { items: [] })],
    ]);
    vi.stubGlobal('fetch', vi.fn(api.fetch));
  });

  afterEach(async () => {
    vi.unstubAllGlobals();
    await dropTaskwellDB();
  });

  it('shows the project, lists its tasks only, and adds new tasks to it', async () => {
    const listTasks = vi.fn(async (): Promise<TaskPage> => ({ items: [], next_cursor: null }));
    workspace = await testWorkspace(server, listTasks);
    await workspace.projects.load();
    renderAt(`/tasks?project=${P}`, withWorkspace(workspace, <TasksPage />));

    expect(await screen.findByRole('heading', { level: 1, name: 'Garden' })).toBeInTheDocument();
    expect(listTasks).toHaveBeenCalledWith(expect.objectContaining({ project_id: P }));
    expect(screen.getByRole('link', { name: 'List' })).toHaveAttribute('aria-current', 'page');
    expect(screen.getByRole('link', { name: 'Board' })).toHaveAttribute('href', `/tasks?project=${P}&view=board`);

    await userEvent.type(screen.getByRole('textbox', { name: 'New task' }), 'Mow lawn{Enter}');

    await waitFor(() =>
      expect(server.writes()[0]).toEqual(
        expect.objectContaining({ method: 'POST', body: { project_id: P, title: 'Mow lawn' } }),
      ),
    );
    expect(await screen.findByRole('checkbox', { name: 'Complete Mow lawn' })).toBeInTheDocument();
  });

  it('opens the share dialog', async () => {
    workspace = await testWorkspace(server);
    await workspace.projects.load();
    renderAt(
      `/tasks?project=${P}`,
      <AuthProvider initial={{ status: 'signed-in', user: USER, offline: false }}>
        {withWorkspace(workspace, <TasksPage />)}
      </AuthProvider>,
    );

    await userEvent.click(await screen.findByRole('button', { name: 'Share' }));
    expect(await screen.findByRole('dialog', { name: 'Share “Garden”' })).toBeInTheDocument();
  });

  it('filters by label chips kept in the URL', async () => {
    const listTasks = vi.fn(async (): Promise<TaskPage> => ({ items: [], next_cursor: null }));
    workspace = await testWorkspace(server, listTasks);
    const { location } = await renderTasks();

    const chip = await screen.findByRole('button', { name: 'Urgent' });
    expect(chip).toHaveAttribute('aria-pressed', 'false');
    expect(screen.getByRole('group', { name: 'Labels' })).toContainElement(chip);
    await userEvent.click(chip);

    expect(location.history!.at(-1)).toBe(`/tasks?label=${LABEL.id}`);
    await waitFor(() => expect(listTasks).toHaveBeenLastCalledWith(expect.objectContaining({ label: [LABEL.id] })));
    expect(screen.getByRole('button', { name: 'Urgent' })).toHaveAttribute('aria-pressed', 'true');
    expect(await screen.findByText('No tasks match these filters.')).toBeInTheDocument();
  });

  it('names the labels of each task in its row', async () => {
    server.seed(makeTask({ title: 'Pay rent', labels: [LABEL.id] }));
    await renderTasks();

    const row = (await screen.findByRole('checkbox', { name: 'Complete Pay rent' })).closest('li')!;
    expect(await within(row).findByText('Urgent')).toHaveClass('badge');
  });
});
