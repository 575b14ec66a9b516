// The task list: create, filter, search, sort, scroll; complete, edit, delete with undo.
import { useCallback, useEffect, useMemo, useRef, useState, useSyncExternalStore } from 'react';
import { useLocation, useSearch } from 'wouter';
import type { Task } from '../api/types';
import { applyPending } from '../offline/overlay';
import { filtersFromSearch, filtersToSearch, type Filters } from '../tasks/filters';
import { NewTaskForm } from '../tasks/NewTaskForm';
import { TaskFilters } from '../tasks/TaskFilters';
import { TaskItem } from '../tasks/TaskItem';
import { UndoToast } from '../tasks/UndoToast';
import { useInfiniteScroll } from '../tasks/useInfiniteScroll';
import { useWorkspace } from '../tasks/workspace';
import { PageHeading } from '../ui/PageHeading';
import { useShortcuts } from '../ui/shortcuts';

function taskItems(): HTMLElement[] {
  return Array.from(document.querySelectorAll<HTMLElement>('.task-list > li[data-task-key]'));
}

function focusedItem(): HTMLElement | null {
  return document.activeElement instanceof HTMLElement
    ? document.activeElement.closest<HTMLElement>('li[data-task-key]')
    : null;
}

function moveFocus(step: 1 | -1): void {
  const items = taskItems();
  const index = items.indexOf(focusedItem() as HTMLElement);
  const next =
    items[index === -1 ? (step === 1 ? 0 : items.length - 1) : Math.min(Math.max(index + step, 0), items.length - 1)];
  next?.focus();
  next?.scrollIntoView?.({ block: 'nearest' });
}

function isFiltered(filters: Filters): boolean {
  return Boolean(filters.status || filters.priority || filters.due || filters.q.trim());
}

export default function TasksPage() {
  const { list, queue } = useWorkspace();
  const state = useSyncExternalStore(list.subscribe, list.getState);
  const ops = useSyncExternalStore(queue.subscribe, queue.snapshot);
  const tasks = useMemo(() => applyPending(state.items, ops, state.hidden), [state.items, ops, state.hidden]);
  const [editing, setEditing] = useState<string | null>(null);
  const newTask = useRef<HTMLInputElement>(null);
  const search = useRef<HTMLInputElement>(null);

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

  const byKey = useMemo(() => new Map(tasks.map((task) => [list.keyOf(task.id), task])), [tasks, list]);
  const focusedTask = (): Task | undefined => byKey.get(focusedItem()?.dataset.taskKey ?? '');

  const onDelete = useCallback(
    (task: Task) => {
      // Keep the keyboard where it was: on the next task, else the previous, else the input.
      const items = taskItems();
      const index = items.findIndex((item) => item.dataset.taskKey === list.keyOf(task.id));
      const neighbour = items[index + 1] ?? items[index - 1];
      list.requestDelete(task);
      (neighbour ?? newTask.current)?.focus();
    },
    [list],
  );
  const onToggle = useCallback((task: Task) => void list.toggleComplete(task), [list]);
  const onRename = useCallback((task: Task, title: string) => void list.change(task, { title }), [list]);
  const onStopEdit = useCallback(() => setEditing(null), []);

  const undo = useCallback(() => {
    const task = list.undoDelete();
    if (task)
      requestAnimationFrame(() =>
        taskItems()
          .find((item) => item.dataset.taskKey === list.keyOf(task.id))
          ?.focus(),
      );
  }, [list]);

  useShortcuts({
    n: () => newTask.current?.focus(),
    '/': () => search.current?.focus(),
    j: () => moveFocus(1),
    k: () => moveFocus(-1),
    x: () => {
      const task = focusedTask();
      if (task) onToggle(task);
    },
    e: () => {
      const key = focusedItem()?.dataset.taskKey;
      if (key) setEditing(key);
    },
    Delete: () => {
      const task = focusedTask();
      if (task) onDelete(task);
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
      <ul className="task-list" aria-label="Tasks" aria-busy={state.loading === 'first'}>
        {tasks.map((task) => {
          const key = list.keyOf(task.id);
          return (
            <TaskItem
              key={key}
              itemKey={key}
              task={task}
              editing={editing === key}
              onToggle={onToggle}
              onStartEdit={setEditing}
              onStopEdit={onStopEdit}
              onRename={onRename}
              onDelete={onDelete}
            />
          );
        })}
      </ul>
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
