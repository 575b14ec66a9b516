// The task detail page: Markdown rendered safely, edits queued with If-Match.
import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Route } from 'wouter';
import { setCsrfToken } from '../api/http';
import { dropTaskwellDB } from '../offline/db';
import { FakeServer, makeTask } from '../test/fakeServer';
import { renderAt, testWorkspace, withWorkspace } from '../test/render';
import type { Workspace } from '../tasks/workspace';
import TaskDetailPage from './TaskDetailPage';

let server: FakeServer;
let workspace: Workspace & { dbName: string };

beforeEach(async () => {
  setCsrfToken('csrf');
  server = new FakeServer();
  workspace = await testWorkspace(server);
  // The page fetches the task itself through the API client.
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string) => {
      const id = decodeURIComponent(url.split('/').pop() ?? '');
      const task = server.tasks.get(id);
      return new Response(
        JSON.stringify(task ?? { type: 'urn:taskwell:problem:task-not-found', detail: 'No task with this id.' }),
        {
          status: task ? 200 : 404,
          headers: { 'Content-Type': 'application/json' },
        },
      );
    }),
  );
});

afterEach(async () => {
  vi.unstubAllGlobals();
  await dropTaskwellDB(workspace.dbName);
});

function renderDetail(id: string) {
  return renderAt(`/tasks/${id}`, withWorkspace(workspace, <Route path="/tasks/:id" component={TaskDetailPage} />));
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
