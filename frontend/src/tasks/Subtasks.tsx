// A task's subtasks on its detail page: read from GET /tasks?parent_id=, kept current by the
// queue's reports and live sync, created and completed through the queue like any other task.
import { useEffect, useId, useState, useSyncExternalStore, type FormEvent } from 'react';
import { Link } from 'wouter';
import { NetworkError, messageOf } from '../api/http';
import { listTasks } from '../api/tasks';
import type { Task } from '../api/types';
import { useReloadCount, withChange } from '../live/useRemote';
import { isLocalRef } from '../offline/ids';
import { applyPending } from '../offline/overlay';
import { useWorkspace } from './workspace';

function useChildren(parentId: string): { children: Task[]; error: string | null } {
  const { queue, changes } = useWorkspace();
  const reloads = useReloadCount();
  const [children, setChildren] = useState<Task[]>([]);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    setChildren([]);
    setError(null);
    if (isLocalRef(parentId)) return;
    let current = true;
    listTasks({ parent_id: parentId, sort: 'position', limit: 200 })
      .then((page) => current && setChildren(page.items))
      .catch((failure: unknown) => {
        if (current && !(failure instanceof NetworkError)) setError(messageOf(failure));
      });
    const stop = queue.onSynced((event) => {
      if (event.kind === 'created' || event.kind === 'updated') {
        const { task } = event;
        setChildren((items) => {
          const rest = items.filter((t) => t.id !== task.id);
          return task.parent_id === parentId ? [...rest, task] : rest;
        });
      } else if (event.kind === 'deleted' || event.kind === 'gone') {
        setChildren((items) => items.filter((t) => t.id !== event.taskId));
      }
    });
    const stopRemote = changes.subscribe('task', (change) =>
      setChildren((items) => {
        const updated = withChange(items, change, (task) => task.parent_id === parentId);
        return updated === items ? items : [...updated];
      }),
    );
    return () => {
      current = false;
      stop();
      stopRemote();
    };
  }, [parentId, queue, changes, reloads]);
  return { children, error };
}

export function Subtasks({ task, editable }: { task: Task; editable: boolean }) {
  const { list, queue } = useWorkspace();
  const ops = useSyncExternalStore(queue.subscribe, queue.snapshot);
  const { children, error } = useChildren(task.id);
  const [title, setTitle] = useState('');
  const inputId = useId();
  const view = applyPending(children, ops)
    .filter((child) => child.parent_id === task.id)
    .sort((a, b) => a.position - b.position);
  // A subtask needs its parent's server id.
  const canAdd = editable && !isLocalRef(task.id);

  function add(event: FormEvent) {
    event.preventDefault();
    const trimmed = title.trim();
    if (!trimmed) return;
    const last = view.at(-1);
    void list.create(trimmed, {
      project_id: task.project_id,
      parent_id: task.id,
      ...(last ? { position: last.position + 1024 } : {}),
    });
    setTitle('');
  }

  return (
    <section aria-labelledby="subtasks-heading" className="subtasks">
      <h2 id="subtasks-heading">
        Subtasks{' '}
        {view.length > 0 && (
          <span className="muted count">
            ({view.filter((t) => t.status === 'done').length}/{view.length} done)
          </span>
        )}
      </h2>
      {error && (
        <p role="alert" className="form-error">
          {error}
        </p>
      )}
      {view.length > 0 && (
        <ul className="task-list" aria-label="Subtasks">
          {view.map((child) => (
            <li key={child.id} className={`task${child.status === 'done' ? ' done' : ''}`}>
              <input
                type="checkbox"
                className="task-check"
                checked={child.status === 'done'}
                disabled={!editable}
                onChange={() => void list.toggleComplete(child)}
                aria-label={`Complete ${child.title}`}
              />
              <div className="task-body">
                <Link href={`/tasks/${encodeURIComponent(child.id)}`} className="task-title">
                  {child.title}
                </Link>
                {child.pending && <span className="badge pending">Not synced</span>}
              </div>
            </li>
          ))}
        </ul>
      )}
      {canAdd && (
        <form className="new-task" onSubmit={add}>
          <label htmlFor={inputId}>New subtask</label>
          <div className="new-task-row">
            <input
              id={inputId}
              type="text"
              value={title}
              maxLength={500}
              autoComplete="off"
              onChange={(event) => setTitle(event.target.value)}
            />
            <button type="submit" className="button">
              Add subtask
            </button>
          </div>
        </form>
      )}
    </section>
  );
}
