// Tasks changed on other devices (live sync) merged into a loaded list, by the server's rules.
import type { Task } from '../api/types';
import type { Filters } from './filters';
import { matchesFilters, sortOrder } from './localQuery';

/** One batch of changes to tasks made elsewhere. */
export interface RemoteTasks {
  upserts: readonly Task[];
  deletes: readonly string[];
  /** Projects the reader no longer sees (deleted, or they left): their tasks go too. */
  goneProjects: readonly string[];
  /** Deleted labels: their ids leave every task. */
  goneLabels: readonly string[];
}

export const NO_REMOTE_TASKS: RemoteTasks = { upserts: [], deletes: [], goneProjects: [], goneLabels: [] };

export interface ListView {
  filters: Filters;
  /** False while more pages follow the loaded ones: a task sorted past the last stays out. */
  complete: boolean;
}

function withoutLabels(task: Task, gone: ReadonlySet<string>): Task {
  if (gone.size === 0 || !(task.labels ?? []).some((id) => gone.has(id))) return task;
  return { ...task, labels: task.labels.filter((id) => !gone.has(id)) };
}

/**
 * The list with the batch applied. A changed task leaves its place and comes back where the
 * server would list it now, if it still matches the filters; an older version than the one
 * shown is a late echo and is ignored. Queued local changes are not here: they stay on top
 * (offline/overlay.ts), so a change from elsewhere never hides one still being sent.
 */
export function mergeRemoteTasks(items: readonly Task[], batch: RemoteTasks, view: ListView): Task[] {
  const deleted = new Set(batch.deletes);
  const goneProjects = new Set(batch.goneProjects);
  const goneLabels = new Set(batch.goneLabels);
  const stays = (task: Task) => !deleted.has(task.id) && !goneProjects.has(task.project_id);
  const incoming = new Map(batch.upserts.map((task) => [task.id, task]));
  const next: Task[] = [];
  for (const task of items) {
    const remote = incoming.get(task.id);
    if (remote && remote.version < task.version) incoming.delete(task.id);
    else if (remote) continue; // placed below
    if (stays(task)) next.push(withoutLabels(task, goneLabels));
  }
  const listed = matchesFilters(view.filters);
  const order = sortOrder(view.filters);
  for (const remote of incoming.values()) {
    const task = withoutLabels(remote, goneLabels);
    if (!stays(task) || !listed(task)) continue;
    const at = next.findIndex((other) => order(task, other) < 0);
    if (at >= 0) next.splice(at, 0, task);
    else if (view.complete) next.push(task);
  }
  return next;
}
