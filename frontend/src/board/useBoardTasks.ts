// Every task of one project for its board, in manual order, with the queued changes applied:
// the shared list store is pointed at the project and reads page after page.
import { useEffect, useMemo, useSyncExternalStore } from 'react';
import { applyPending, type ViewTask } from '../offline/overlay';
import { DEFAULT_FILTERS, filtersToSearch, type Filters } from '../tasks/filters';
import { useWorkspace } from '../tasks/workspace';

/** A board is for a project of a workable size; past this it shows what it has read. */
const MAX_CARDS = 1000;

export interface BoardTasks {
  tasks: ViewTask[];
  loading: boolean;
  error: string | null;
  fromCache: boolean;
  /** Something the queue could not deliver (e.g. a viewer's move refused). */
  notice: string | null;
}

export function useBoardTasks(projectId: string): BoardTasks {
  const { list, queue } = useWorkspace();
  const state = useSyncExternalStore(list.subscribe, list.getState);
  const ops = useSyncExternalStore(queue.subscribe, queue.snapshot);
  const filters: Filters = useMemo(() => ({ ...DEFAULT_FILTERS, project: projectId, sort: 'position' }), [projectId]);
  useEffect(() => void list.setFilters(filters), [list, filters]);

  const ours = filtersToSearch(state.filters) === filtersToSearch(filters);
  useEffect(() => {
    if (ours && state.nextCursor && state.loading === 'idle' && state.items.length < MAX_CARDS) void list.loadMore();
  }, [ours, state.nextCursor, state.loading, state.items.length, list]);

  const tasks = useMemo(
    () =>
      ours
        ? applyPending(state.items, ops, { hidden: state.hidden, filters }).filter((t) => t.project_id === projectId)
        : [],
    [ours, state.items, state.hidden, ops, filters, projectId],
  );
  return {
    tasks,
    loading: !ours || state.loading === 'first',
    error: ours ? state.error : null,
    fromCache: ours && state.fromCache,
    notice: state.notice,
  };
}
