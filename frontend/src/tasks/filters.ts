// The list's filters: kept in the URL query string, turned into GET /tasks parameters.
import type { ListParams } from '../api/tasks';
import type { TaskStatus } from '../api/types';

export type DueFilter = '' | 'overdue' | 'today' | 'week';

export interface Filters {
  status: '' | TaskStatus;
  priority: '' | '0' | '1' | '2' | '3' | '4';
  due: DueFilter;
  sort: string;
  q: string;
  /** A project id; '' for every project. */
  project: string;
  /** Label ids: tasks with any of them. */
  labels: readonly string[];
}

export const SORT_OPTIONS: readonly { value: string; label: string }[] = [
  { value: '-created_at', label: 'Newest first' },
  { value: 'created_at', label: 'Oldest first' },
  { value: 'due_at', label: 'Due date' },
  { value: '-priority', label: 'Priority' },
  { value: '-updated_at', label: 'Recently changed' },
  { value: 'position', label: 'Manual order' },
];

export const DUE_OPTIONS: readonly { value: DueFilter; label: string }[] = [
  { value: '', label: 'Any time' },
  { value: 'overdue', label: 'Overdue' },
  { value: 'today', label: 'Due today' },
  { value: 'week', label: 'Next 7 days' },
];

export const DEFAULT_FILTERS: Filters = {
  status: '',
  priority: '',
  due: '',
  sort: '-created_at',
  q: '',
  project: '',
  labels: [],
};

// Ids are UUIDs; anything else in the URL is ignored rather than sent.
const ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const STATUSES = new Set(['todo', 'in_progress', 'done']);
const PRIORITIES = new Set(['0', '1', '2', '3', '4']);
const DUES = new Set(DUE_OPTIONS.map((o) => o.value));
const SORTS = new Set(SORT_OPTIONS.map((o) => o.value));

/** Filters from a query string; unknown values fall back to the defaults. */
export function filtersFromSearch(search: string): Filters {
  const params = new URLSearchParams(search);
  const pick = <T extends string>(name: string, allowed: Set<string>, fallback: T): T => {
    const value = params.get(name);
    return value !== null && allowed.has(value) ? (value as T) : fallback;
  };
  return {
    status: pick('status', STATUSES, DEFAULT_FILTERS.status),
    priority: pick('priority', PRIORITIES, DEFAULT_FILTERS.priority),
    due: pick('due', DUES, DEFAULT_FILTERS.due),
    sort: pick('sort', SORTS, DEFAULT_FILTERS.sort),
    q: (params.get('q') ?? '').slice(0, 200),
    project: ID.test(params.get('project') ?? '') ? params.get('project')! : '',
    labels: [...new Set(params.getAll('label').filter((id) => ID.test(id)))].sort(),
  };
}

/** The query string for these filters (defaults left out); also the offline cache key. */
export function filtersToSearch(filters: Filters): string {
  const params = new URLSearchParams();
  for (const name of ['status', 'priority', 'due', 'sort', 'q'] as const) {
    const value = name === 'q' ? filters.q.trim() : filters[name];
    if (value !== DEFAULT_FILTERS[name]) params.set(name, value);
  }
  if (filters.project) params.set('project', filters.project);
  for (const label of [...filters.labels].sort()) params.append('label', label);
  return params.toString();
}

function startOfDay(now: Date, plusDays = 0): Date {
  const day = new Date(now);
  day.setHours(0, 0, 0, 0);
  day.setDate(day.getDate() + plusDays);
  return day;
}

export function listParams(filters: Filters, now: Date = new Date()): ListParams {
  const params: ListParams = { sort: filters.sort, limit: 50 };
  if (filters.project) params.project_id = filters.project;
  if (filters.labels.length) params.label = filters.labels;
  if (filters.status) params.status = filters.status;
  if (filters.priority) params.priority = filters.priority;
  if (filters.q.trim()) params.q = filters.q.trim();
  if (filters.due === 'overdue') params.due_before = now.toISOString();
  if (filters.due === 'today') {
    params.due_after = startOfDay(now).toISOString();
    params.due_before = startOfDay(now, 1).toISOString();
  }
  if (filters.due === 'week') {
    params.due_after = startOfDay(now).toISOString();
    params.due_before = startOfDay(now, 8).toISOString();
  }
  return params;
}
