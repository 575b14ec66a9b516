// One task in the list: complete, edit the title in place, open, delete.
import { memo, useEffect, useRef, useState, type KeyboardEvent } from 'react';
import { Link } from 'wouter';
import type { Label, Task } from '../api/types';
import type { ViewTask } from '../offline/overlay';
import { formatDate, isOverdue, priorityLabel } from './format';

interface TaskItemProps {
  task: ViewTask;
  itemKey: string;
  editing: boolean;
  /** The person's labels by id, to name the task's. */
  labels?: ReadonlyMap<string, Label>;
  onToggle(task: Task): void;
  onStartEdit(key: string): void;
  onStopEdit(): void;
  onRename(task: Task, title: string): void;
  onDelete(task: Task): void;
}

function TitleEditor({ initial, onDone }: { initial: string; onDone(title: string | null, viaKey: boolean): void }) {
  const [value, setValue] = useState(initial);
  const ref = useRef<HTMLInputElement>(null);
  const finished = useRef(false);
  useEffect(() => {
    ref.current?.focus();
    ref.current?.select();
  }, []);

  function finish(save: boolean, viaKey: boolean) {
    if (finished.current) return;
    finished.current = true;
    const title = value.trim();
    onDone(save && title && title !== initial ? title : null, viaKey);
  }

  function onKeyDown(event: KeyboardEvent<HTMLInputElement>) {
    if (event.key === 'Enter') {
      event.preventDefault();
      finish(true, true);
    } else if (event.key === 'Escape') {
      event.preventDefault();
      finish(false, true);
    }
  }

  return (
    <input
      ref={ref}
      className="task-title-input"
      aria-label="Title"
      value={value}
      maxLength={500}
      onChange={(event) => setValue(event.target.value)}
      onKeyDown={onKeyDown}
      onBlur={() => finish(true, false)}
    />
  );
}

/** The names of the task's labels that are known here. */
export function labelNames(task: Task, labels: ReadonlyMap<string, Label> | undefined): string[] {
  return (task.labels ?? []).flatMap((id) => labels?.get(id)?.name ?? []);
}

export function TaskMeta({ task, labels }: { task: ViewTask; labels?: ReadonlyMap<string, Label> }) {
  const done = task.status === 'done';
  return (
    <span className="task-meta">
      {labelNames(task, labels).map((name) => (
        <span key={name} className="badge label">
          {name}
        </span>
      ))}
      {task.priority > 0 && <span className={`badge priority-${task.priority}`}>{priorityLabel(task.priority)}</span>}
      {task.status === 'in_progress' && <span className="badge">In progress</span>}
      {task.due_at && (
        <span className={isOverdue(task.due_at, done) ? 'due overdue' : 'due'}>
          {isOverdue(task.due_at, done) ? 'Overdue: ' : 'Due '}
          <time dateTime={task.due_at}>{formatDate(task.due_at)}</time>
        </span>
      )}
      {task.pending && <span className="badge pending">Not synced</span>}
    </span>
  );
}

export const TaskItem = memo(function TaskItem(props: TaskItemProps) {
  const { task, itemKey, editing } = props;
  const editButton = useRef<HTMLButtonElement>(null);
  const refocus = useRef(false);
  const done = task.status === 'done';

  useEffect(() => {
    if (!editing && refocus.current) {
      refocus.current = false;
      editButton.current?.focus();
    }
  }, [editing]);

  function finishEdit(title: string | null, viaKey: boolean) {
    refocus.current = viaKey;
    if (title) props.onRename(task, title);
    props.onStopEdit();
  }

  return (
    <li className={`task${done ? ' done' : ''}`} data-task-key={itemKey} tabIndex={-1}>
      <input
        type="checkbox"
        className="task-check"
        checked={done}
        onChange={() => props.onToggle(task)}
        aria-label={`Complete ${task.title}`}
      />
      <div className="task-body">
        {editing ? (
          <TitleEditor initial={task.title} onDone={finishEdit} />
        ) : (
          <Link href={`/tasks/${encodeURIComponent(task.id)}`} className="task-title">
            {task.title}
          </Link>
        )}
        <TaskMeta task={task} labels={props.labels} />
      </div>
      <div className="task-actions">
        <button
          ref={editButton}
          type="button"
          className="button small"
          aria-label={`Edit ${task.title}`}
          aria-keyshortcuts="e"
          onClick={() => props.onStartEdit(itemKey)}
        >
          Edit
        </button>
        <button
          type="button"
          className="button small danger"
          aria-label={`Delete ${task.title}`}
          aria-keyshortcuts="Delete"
          onClick={() => props.onDelete(task)}
        >
          Delete
        </button>
      </div>
    </li>
  );
});
