// Rendering helpers: a memory router, and a workspace backed by the fake API server.
import { render } from '@testing-library/react';
import type { ReactElement } from 'react';
import { Router } from 'wouter';
import { memoryLocation } from 'wouter/memory-location';
import { LabelStore } from '../labels/store';
import { ChangeHub } from '../live/hub';
import { ReminderStore } from '../live/reminders';
import { ProjectStore } from '../projects/store';
import { OfflineQueue } from '../offline/queue';
import { SyncController } from '../offline/sync';
import { NO_REMOTE_TASKS } from '../tasks/remote';
import { TaskListStore, type ListDeps } from '../tasks/store';
import { WorkspaceContext, type Workspace } from '../tasks/workspace';
import type { FakeServer } from './fakeServer';

export function renderAt(path: string, ui: ReactElement) {
  const location = memoryLocation({ path, record: true });
  const result = render(
    <Router hook={location.hook} searchHook={location.searchHook}>
      {ui}
    </Router>,
  );
  return { ...result, location };
}

let workspaces = 0;

/** A workspace whose queue and list talk to `server` (listing returns all its tasks). */
export async function testWorkspace(
  server: FakeServer,
  listTasks?: ListDeps['listTasks'],
): Promise<Workspace & { dbName: string }> {
  workspaces += 1;
  const dbName = `ui-test-${workspaces}`;
  const queue = await OfflineQueue.open(server, dbName);
  const sync = new SyncController(queue, async () => undefined);
  const list = new TaskListStore(queue, {
    listTasks: listTasks ?? (async () => ({ items: [...server.tasks.values()].reverse(), next_cursor: null })),
    savePage: async () => undefined,
    loadPage: async () => undefined,
    loadAllTasks: async () => [],
    saveTask: async () => undefined,
    forgetTask: async () => undefined,
    sync: () => void queue.flush(),
  });
  return {
    queue,
    sync,
    list,
    projects: new ProjectStore(),
    labels: new LabelStore((id) => list.applyRemote({ ...NO_REMOTE_TASKS, goneLabels: [id] })),
    changes: new ChangeHub(),
    reminders: new ReminderStore(() => undefined),
    dbName,
  };
}

export function withWorkspace(workspace: Workspace, ui: ReactElement): ReactElement {
  return <WorkspaceContext.Provider value={workspace}>{ui}</WorkspaceContext.Provider>;
}
