// Everything the signed-in screens share: the offline queue, its sync controller, the list,
// the projects and the labels.
import { createContext, useContext } from 'react';
import { loadCsrfToken } from '../api/http';
import { createTask, deleteTask, getTask, listTasks, patchTask } from '../api/tasks';
import { LabelStore } from '../labels/store';
import { ProjectStore } from '../projects/store';
import { forgetTask, loadAllTasks, loadPage, saveTask, savePage } from '../offline/cache';
import { OfflineQueue } from '../offline/queue';
import { SyncController } from '../offline/sync';
import { TaskListStore } from './store';

export interface Workspace {
  queue: OfflineQueue;
  sync: SyncController;
  list: TaskListStore;
  projects: ProjectStore;
  labels: LabelStore;
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
  const labels = new LabelStore();
  // Back online with the queue replayed: show the server's truth.
  sync.onReconnect(() => {
    void list.reload();
    void projects.load();
  });
  return { queue, sync, list, projects, labels };
}

export const WorkspaceContext = createContext<Workspace | null>(null);

export function useWorkspace(): Workspace {
  const workspace = useContext(WorkspaceContext);
  if (!workspace) throw new Error('useWorkspace outside the signed-in app');
  return workspace;
}
