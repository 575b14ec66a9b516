// Everything the signed-in screens share: the offline queue, its sync controller, the list,
// the projects, the labels, and what live sync brings (changes from elsewhere, reminders).
import { createContext, useContext } from 'react';
import { loadCsrfToken } from '../api/http';
import { createTask, deleteTask, getTask, listTasks, patchTask } from '../api/tasks';
import { LabelStore } from '../labels/store';
import { ChangeHub } from '../live/hub';
import { ReminderStore } from '../live/reminders';
import { ProjectStore } from '../projects/store';
import { forgetTask, loadAllTasks, loadPage, saveTask, savePage } from '../offline/cache';
import { OfflineQueue } from '../offline/queue';
import { SyncController } from '../offline/sync';
import { NO_REMOTE_TASKS } from './remote';
import { TaskListStore } from './store';

export interface Workspace {
  queue: OfflineQueue;
  sync: SyncController;
  list: TaskListStore;
  projects: ProjectStore;
  labels: LabelStore;
  /** Changes from other devices, for screens with a copy of their own (live/). */
  changes: ChangeHub;
  reminders: ReminderStore;
}

export async function openWorkspace(): Promise<Workspace> {
  const queue = await OfflineQueue.open({ createTask, patchTask, deleteTask, getTask });
  const sync = new SyncController(queue, loadCsrfToken);
  const list = new TaskListStore(queue, {
    listTasks,
    savePage,
    loadPage,
    loadAllTasks,
    saveTask,
    forgetTask,
    sync: () => void sync.sync(),
  });
  const projects = new ProjectStore();
  const labels = new LabelStore((id) => list.applyRemote({ ...NO_REMOTE_TASKS, goneLabels: [id] }));
  // Back online with the queue replayed: views showing this device's copy read the server's;
  // the rest is caught up by live sync (live/start.ts) from its token.
  sync.onReconnect(() => {
    if (list.getState().fromCache) void list.reload();
    if (projects.getState().fromCache) void projects.load();
    if (labels.getState().fromCache) void labels.load();
  });
  return { queue, sync, list, projects, labels, changes: new ChangeHub(), reminders: new ReminderStore() };
}

export const WorkspaceContext = createContext<Workspace | null>(null);

export function useWorkspace(): Workspace {
  const workspace = useContext(WorkspaceContext);
  if (!workspace) throw new Error('useWorkspace outside the signed-in app');
  return workspace;
}
