// The list query answered on this device from every task seen, for views never loaded
// online. Mirrors the server: same filters, same sort keys, id as the tie-break, tasks
// without a due date last either way.
import type { Task } from '../api/types';
import { listParams, type Filters } from './filters';

type SortField = 'created_at' | 'updated_at' | 'due_at' | 'priority' | 'position';

function compare(a: Task, b: Task, field: SortField): number {
  const x = a[field];
  const y = b[field];
  if (x === y) return 0;
  if (x === null) return 1;
  if (y === null) return -1;
  return x < y ? -1 : 1;
}

// `?? []`: tasks saved on this device before labels existed have none.
/** The server's filter rules as a test of one task (the list and the offline overlay share it). */
export function matchesFilters(filters: Filters, now: Date = new Date()): (task: Task) => boolean {
  const params = listParams(filters, now);
  const text = params.q?.toLowerCase();
  const before = params.due_before ? Date.parse(params.due_before) : null;
  const after = params.due_after ? Date.parse(params.due_after) : null;
  const labels = filters.labels;
  return (task) => {
    if (params.project_id && task.project_id !== params.project_id) return false;
    if (labels.length && !labels.some((label) => (task.labels ?? []).includes(label))) return false;
    if (params.status && task.status !== params.status) return false;
    if (params.priority && String(task.priority) !== params.priority) return false;
    if (text && !task.title.toLowerCase().includes(text) && !task.description.toLowerCase().includes(text))
      return false;
    const due = task.due_at ? Date.parse(task.due_at) : null;
    if (before !== null && (due === null || due >= before)) return false;
    if (after !== null && (due === null || due < after)) return false;
    return true;
  };
}

/** The server's order for these filters: the sort key, then the id. */
export function sortOrder(filters: Filters): (a: Task, b: Task) => number {
  const descending = filters.sort.startsWith('-');
  const field = filters.sort.replace(/^-/, '') as SortField;
  return (a, b) => {
    const order = compare(a, b, field);
    if (order !== 0) {
      // Missing due dates stay last in both directions.
      if (field === 'due_at' && (a.due_at === null || b.due_at === null)) return order;
      return descending ? -order : order;
    }
    return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  };
}

export function queryLocally(tasks: readonly Task[], filters: Filters, now: Date = new Date()): Task[] {
  return tasks.filter(matchesFilters(filters, now)).sort(sortOrder(filters));
}
