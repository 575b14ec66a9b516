// The list of tasks: one row per task, keyed so that a task keeps its row (and the keyboard)
// when the server gives it its id.
import { useMemo, useSyncExternalStore, type RefObject } from 'react';
import type { Task } from '../api/types';
import type { ViewTask } from '../offline/overlay';
import { useKeptFocus } from './listFocus';
import { TaskItem } from './TaskItem';
import { useWorkspace } from './workspace';

export interface TaskActions {
  onToggle(task: Task): void;
  onStartEdit(key: string): void;
  onStopEdit(): void;
  onRename(task: Task, title: string): void;
  onDelete(task: Task): void;
}

interface TaskListProps extends TaskActions {
  tasks: readonly ViewTask[];
  editing: string | null;
  busy: boolean;
  /** Where the keyboard goes when the last row it was on is gone. */
  fallbackFocus: RefObject<HTMLElement | null>;
}

export function TaskList({ tasks, editing, busy, fallbackFocus, ...actions }: TaskListProps) {
  const { list, labels } = useWorkspace();
  const labelState = useSyncExternalStore(labels.subscribe, labels.getState);
  const byId = useMemo(() => new Map(labelState.labels.map((label) => [label.id, label])), [labelState.labels]);
  const keys = tasks.map((task) => list.keyOf(task.id));
  useKeptFocus(keys.join(' '), fallbackFocus);
  return (
    <ul className="task-list" aria-label="Tasks" aria-busy={busy}>
      {tasks.map((task, index) => (
        <TaskItem
          key={keys[index]}
          itemKey={keys[index]!}
          task={task}
          editing={editing === keys[index]}
          labels={byId}
          {...actions}
        />
      ))}
    </ul>
  );
}
