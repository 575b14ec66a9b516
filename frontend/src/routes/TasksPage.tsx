// The task list: create, filter, search, sort, scroll; complete, edit, delete with undo.
import { useCallback, useMemo, useRef, useState } from 'react';
import type { Task } from '../api/types';
import type { Filters } from '../tasks/filters';
import { focusItem, focusedItem, moveFocus, taskItems } from '../tasks/listFocus';
import { NewTaskForm } from '../tasks/NewTaskForm';
import { TaskFilters } from '../tasks/TaskFilters';
import { TaskList, type TaskActions } from '../tasks/TaskList';
import { UndoToast } from '../tasks/UndoToast';
import { useInfiniteScroll } from '../tasks/useInfiniteScroll';
import { useTaskView } from '../tasks/useTaskView';
import { useWorkspace } from '../tasks/workspace';
import { PageHeading } from '../ui/PageHeading';
import { useShortcuts } from '../ui/shortcuts';

function isFiltered(filters: Filters): boolean {
  return Boolean(filters.status || filters.priority || filters.due || filters.q.trim());
}

export default function TasksPage() {
  const { list } = useWorkspace();
  const { state, tasks, filters, changeFilters } = useTaskView();
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
      <PageHeading title="Tasks">Tasks</PageHeading>
      <NewTaskForm ref={newTask} onCreate={(title) => void list.create(title)} />
      <TaskFilters ref={search} filters={filters} onChange={changeFilters} />
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
