// The task screen: the list of every task or of one project (create, filter, search, sort,
// scroll; complete, edit, delete with undo), or a project's board (loaded on demand).
import { Suspense, useCallback, useMemo, useRef, useState, useSyncExternalStore } from 'react';
import { useSearch } from 'wouter';
import type { Task } from '../api/types';
import { LabelFilter } from '../labels/LabelFilter';
import { ProjectHeader } from '../projects/ProjectHeader';
import { canEdit } from '../projects/store';
import { filtersFromSearch, type Filters } from '../tasks/filters';
import { focusItem, focusedItem, moveFocus, taskItems } from '../tasks/listFocus';
import { NewTaskForm } from '../tasks/NewTaskForm';
import { TaskFilters } from '../tasks/TaskFilters';
import { TaskList, type TaskActions } from '../tasks/TaskList';
import { UndoToast } from '../tasks/UndoToast';
import { useInfiniteScroll } from '../tasks/useInfiniteScroll';
import { useTaskView } from '../tasks/useTaskView';
import { useWorkspace } from '../tasks/workspace';
import { lazyRoute } from '../ui/lazyRoute';
import { useShortcuts } from '../ui/shortcuts';

const BoardPage = lazyRoute(() => import('../board/BoardPage'));

function isFiltered(filters: Filters): boolean {
  return Boolean(filters.status || filters.priority || filters.due || filters.q.trim() || filters.labels.length);
}

export default function TasksPage() {
  const search = useSearch();
  const project = filtersFromSearch(search).project;
  if (project && new URLSearchParams(search).get('view') === 'board') {
    return (
      <Suspense fallback={<p className="loading">Loading the board…</p>}>
        <BoardPage projectId={project} />
      </Suspense>
    );
  }
  return <TaskListPage />;
}

function TaskListPage() {
  const { list, projects } = useWorkspace();
  const { state, tasks, filters, changeFilters } = useTaskView();
  useSyncExternalStore(projects.subscribe, projects.getState);
  const project = filters.project ? projects.byId(filters.project) : undefined;
  const writable = !filters.project || !project || canEdit(project);
  const [editing, setEditing] = useState<string | null>(null);
  const newTask = useRef<HTMLInputElement>(null);
  const search = useRef<HTMLInputElement>(null);

  const byKey = useMemo(() => new Map(tasks.map((task) => [list.keyOf(task.id), task])), [tasks, list]);
  const focusedTask = (): Task | undefined => byKey.get(focusedItem()?.dataset.taskKey ?? '');

  const actions: TaskActions = useMemo(
    () => ({
      onToggle: (task) => void list.toggleComplete(task),
      onRename: (task, title) => void list.change(task, { title }),
      onStartEdit: setEditing,
      onStopEdit: () => setEditing(null),
      onDelete: (task) => {
        // Keep the keyboard where it was: on the next task, else the previous, else the input.
        const items = taskItems();
        const index = items.findIndex((item) => item.dataset.taskKey === list.keyOf(task.id));
        const neighbour = items[index + 1] ?? items[index - 1];
        list.requestDelete(task);
        (neighbour ?? newTask.current)?.focus();
      },
    }),
    [list],
  );

  const undo = useCallback(() => {
    const task = list.undoDelete();
    if (task) requestAnimationFrame(() => focusItem(list.keyOf(task.id)));
  }, [list]);

  useShortcuts({
    n: () => newTask.current?.focus(),
    '/': () => search.current?.focus(),
    j: () => moveFocus(1),
    k: () => moveFocus(-1),
    x: () => {
      const task = focusedTask();
      if (task) actions.onToggle(task);
    },
    e: () => {
      const key = focusedItem()?.dataset.taskKey;
      if (key) setEditing(key);
    },
    Delete: () => {
      const task = focusedTask();
      if (task) actions.onDelete(task);
    },
    z: () => {
      if (state.toast) undo();
    },
  });

  const loadMore = useCallback(() => void list.loadMore(), [list]);
  const sentinel = useInfiniteScroll(
    loadMore,
    state.nextCursor !== null && state.loading === 'idle',
    state.items.length,
  );

  return (
    <div className="page">
      <ProjectHeader projectId={filters.project} view="list" />
      {writable && (
        <NewTaskForm
          ref={newTask}
          onCreate={(title) => void list.create(title, filters.project ? { project_id: filters.project } : {})}
        />
      )}
      <TaskFilters ref={search} filters={filters} onChange={changeFilters} />
      <LabelFilter selected={filters.labels} onChange={(labels) => changeFilters({ ...filters, labels })} />
      {state.fromCache && <p className="note">You are offline: showing the tasks saved on this device.</p>}
      {state.error && (
        <p role="alert" className="form-error">
          {state.error}
        </p>
      )}
      {state.notice && (
        <div role="alert" className="notice">
          <span>{state.notice}</span>
          <button type="button" className="button small quiet" onClick={() => list.dismissNotice()}>
            Dismiss
          </button>
        </div>
      )}
      <TaskList tasks={tasks} editing={editing} busy={state.loading === 'first'} fallbackFocus={newTask} {...actions} />
      {state.loading === 'first' && tasks.length === 0 && <p className="loading">Loading tasks…</p>}
      {state.loading === 'idle' && tasks.length === 0 && !state.error && (
        <p className="empty">
          {isFiltered(filters) ? 'No tasks match these filters.' : 'No tasks yet. Add one above.'}
        </p>
      )}
      {state.nextCursor !== null && (
        <div ref={sentinel} className="load-more">
          <button type="button" className="button" onClick={loadMore} disabled={state.loading !== 'idle'}>
            {state.loading === 'more' ? 'Loading…' : 'Load more'}
          </button>
        </div>
      )}
      {state.toast && (
        <UndoToast
          title={state.toast.title}
          onUndo={undo}
          onDismiss={() => void list.commitDelete()}
          onPause={() => list.pauseUndoTimer()}
          onResume={() => list.resumeUndoTimer()}
        />
      )}
    </div>
  );
}
