// The list as shown: the filters from the URL, the store's pages, the queued changes on top.
import { useCallback, useEffect, useMemo, useSyncExternalStore } from 'react';
import { useLocation, useSearch } from 'wouter';
import { applyPending, type ViewTask } from '../offline/overlay';
import { filtersFromSearch, filtersToSearch, type Filters } from './filters';
import type { ListState } from './store';
import { useWorkspace } from './workspace';

export interface TaskView {
  state: ListState;
  /** What the person sees: the loaded tasks with queued changes, judged by the filters. */
  tasks: ViewTask[];
  filters: Filters;
  changeFilters(next: Filters): void;
}

export function useTaskView(): TaskView {
  const { list, queue } = useWorkspace();
  const state = useSyncExternalStore(list.subscribe, list.getState);
  const ops = useSyncExternalStore(queue.subscribe, queue.snapshot);
  const tasks = useMemo(
    () => applyPending(state.items, ops, { hidden: state.hidden, filters: state.filters }),
    [state.items, ops, state.hidden, state.filters],
  );

  const searchString = useSearch();
  const [, navigate] = useLocation();
  const filters = useMemo(() => filtersFromSearch(searchString), [searchString]);
  useEffect(() => void list.setFilters(filters), [list, filters]);
  const changeFilters = useCallback(
    (next: Filters) => {
      const query = filtersToSearch(next);
      navigate(query ? `/tasks?${query}` : '/tasks', { replace: true });
    },
    [navigate],
  );
  return { state, tasks, filters, changeFilters };
}
