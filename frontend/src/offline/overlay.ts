// The list as the person should see it: server tasks with the queued changes applied.
import type { Task } from '../api/types';
import type { Filters } from '../tasks/filters';
import { matchesFilters } from '../tasks/localQuery';
import type { QueuedOp } from './db';

export interface ViewTask extends Task {
  /** True while a change to this task waits in the queue. */
  pending: boolean;
}

function localTask(ref: string, op: Extract<QueuedOp, { kind: 'create' }>): ViewTask {
  const at = new Date(op.queuedAt).toISOString();
  const status = op.body.status ?? 'todo';
  const { body } = op;
  return {
    id: ref,
    // '' until the server says which Inbox an unplaced task went to.
    project_id: body.project_id ?? '',
    section_id: body.section_id ?? null,
    parent_id: body.parent_id ?? null,
    assignee_id: body.assignee_id ?? null,
    created_by: null,
    labels: body.labels ?? [],
    title: op.body.title,
    description: op.body.description ?? '',
    status,
    priority: op.body.priority ?? 0,
    due_at: op.body.due_at ?? null,
    completed_at: status === 'done' ? at : null,
    position: body.position ?? 0,
    version: 0,
    created_at: at,
    updated_at: at,
    pending: true,
  };
}

function applyChanges(task: ViewTask, op: Extract<QueuedOp, { kind: 'update' }>): ViewTask {
  const next: ViewTask = { ...task, ...op.changes, pending: true };
  if (op.changes.status !== undefined && op.changes.status !== task.status) {
    next.completed_at = op.changes.status === 'done' ? new Date(op.queuedAt).toISOString() : null;
  }
  return next;
}

export interface ViewOptions {
  /** Deletions waiting for their undo toast: left out already. */
  hidden?: ReadonlySet<string>;
  /** The list's filters and search: a task the queued changes make match (or stop matching)
   * them comes in (or goes), by the same rules as the server's. */
  filters?: Filters;
  now?: Date;
}

/**
 * Tasks created in the queue come first (newest on top), then the server's tasks in their
 * order; queued edits are applied, queued and `hidden` deletions are left out, and so are
 * tasks that do not match `filters`.
 */
export function applyPending(items: readonly Task[], ops: readonly QueuedOp[], options: ViewOptions = {}): ViewTask[] {
  const { hidden = new Set<string>(), filters } = options;
  const matches = filters ? matchesFilters(filters, options.now) : () => true;
  const created: ViewTask[] = [];
  const byKey = new Map<string, ViewTask>();
  const deleted = new Set<string>();
  const view: ViewTask[] = items.map((task) => ({ ...task, pending: false }));
  view.forEach((task) => byKey.set(task.id, task));
  for (const op of ops) {
    if (op.kind === 'create') {
      const task = localTask(op.ref, op);
      created.unshift(task);
      byKey.set(op.ref, task);
      continue;
    }
    const key = op.taskId !== null && byKey.has(op.taskId) ? op.taskId : op.ref;
    const current = byKey.get(key);
    if (!current) continue;
    if (op.kind === 'delete') {
      deleted.add(current.id);
    } else {
      Object.assign(current, applyChanges(current, op));
    }
  }
  return [...created, ...view].filter(
    (task) => !deleted.has(task.id) && !hidden.has(task.id) && (!task.pending || matches(task)),
  );
}

/** The view of one task (detail page), or undefined when it is deleted or unknown. */
export function applyPendingTo(task: Task | undefined, ref: string, ops: readonly QueuedOp[]): ViewTask | undefined {
  const items = task ? [task] : [];
  return applyPending(items, ops).find((t) => t.id === ref || t.id === task?.id);
}
