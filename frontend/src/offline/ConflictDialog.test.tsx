// The conflict dialog: both versions, and the person's choice sent back to the queue.
import { render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeServer, makeTask } from '../test/fakeServer';
import { testWorkspace, withWorkspace } from '../test/render';
import type { Workspace } from '../tasks/workspace';
import { ConflictDialog } from './ConflictDialog';
import { dropTaskwellDB } from './db';

let server: FakeServer;
let workspace: Workspace & { dbName: string };

async function makeConflict() {
  const task = server.seed(makeTask({ title: 'Plan trip' }));
  await workspace.queue.update(task.id, 1, { title: 'Plan trip to Rome' }, task);
  server.editElsewhere(task.id, { title: 'Plan trip to Oslo' });
  await workspace.sync.sync();
  return task;
}

beforeEach(async () => {
  server = new FakeServer();
  workspace = await testWorkspace(server);
});

afterEach(async () => {
  await dropTaskwellDB(workspace.dbName);
});

describe('ConflictDialog', () => {
  it('is hidden without a conflict', () => {
    render(withWorkspace(workspace, <ConflictDialog />));
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
  });

  it('shows both versions in a dialog named "Conflict", focus on "Keep mine"', async () => {
    render(withWorkspace(workspace, <ConflictDialog />));
    await makeConflict();

    const dialog = await screen.findByRole('dialog', { name: 'Conflict' });
    expect(within(dialog).getByRole('region', { name: 'Yours' })).toHaveTextContent('Plan trip to Rome');
    expect(within(dialog).getByRole('region', { name: 'Theirs (on the server now)' })).toHaveTextContent(
      'Plan trip to Oslo',
    );
    expect(within(dialog).getByRole('button', { name: 'Keep mine' })).toHaveFocus();
  });

  it('"Keep mine" re-sends my change over theirs', async () => {
    render(withWorkspace(workspace, <ConflictDialog />));
    const task = await makeConflict();

    await userEvent.click(await screen.findByRole('button', { name: 'Keep mine' }));

    await waitFor(() => expect(server.tasks.get(task.id)!.title).toBe('Plan trip to Rome'));
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    // Let the replay finish (it reloads the queue) before the test drops the database.
    await workspace.queue.flush();
  });

  it('"Keep theirs" drops my change', async () => {
    render(withWorkspace(workspace, <ConflictDialog />));
    const task = await makeConflict();

    await userEvent.click(await screen.findByRole('button', { name: 'Keep theirs' }));

    await waitFor(() => expect(screen.queryByRole('dialog')).not.toBeInTheDocument());
    expect(server.tasks.get(task.id)!.title).toBe('Plan trip to Oslo');
    expect(workspace.queue.snapshot()).toHaveLength(0);
    await workspace.queue.flush();
  });

  it('keeps Tab inside the dialog', async () => {
    render(withWorkspace(workspace, <ConflictDialog />));
    await makeConflict();
    const mine = await screen.findByRole('button', { name: 'Keep mine' });

    await userEvent.tab();
    expect(screen.getByRole('button', { name: 'Keep theirs' })).toHaveFocus();
    await userEvent.tab();
    expect(mine).toHaveFocus();
    await userEvent.tab({ shift: true });
    expect(screen.getByRole('button', { name: 'Keep theirs' })).toHaveFocus();
  });
});
