// One task: its description rendered from Markdown, every field editable; its labels,
// subtasks and comments.
import { useEffect, useRef, useState, useSyncExternalStore } from 'react';
import { Link, Redirect, useLocation, useParams } from 'wouter';
import { ApiError, NetworkError, messageOf } from '../api/http';
import { getTask } from '../api/tasks';
import { PRIORITY_LABELS, STATUS_LABELS, type Member, type Project, type Task, type TaskChanges } from '../api/types';
import { useUser } from '../auth/AuthContext';
import { Comments } from '../comments/Comments';
import { LabelPicker } from '../labels/LabelPicker';
import { Markdown } from '../markdown/Markdown';
import { loadTask, saveTask } from '../offline/cache';
import { useReloadCount } from '../live/useRemote';
import { isLocalRef } from '../offline/ids';
import { applyPendingTo, type ViewTask } from '../offline/overlay';
import { formatDate, formatDateTime } from '../tasks/format';
import { SectionField } from '../tasks/SectionField';
import { TaskEditForm } from '../tasks/TaskEditForm';
import { useWorkspace } from '../tasks/workspace';
import { projectHref } from '../projects/ProjectSidebar';
import { canEdit } from '../projects/store';
import { useMembers } from '../projects/useMembers';
import { Subtasks } from '../tasks/Subtasks';
import { PageHeading } from '../ui/PageHeading';

/** The newest copy known: fetched here, in the list, reported by the queue or by live sync. */
function useServerTask(id: string): { task: Task | undefined; error: string | null } {
  const { list, queue, changes } = useWorkspace();
  const reloads = useReloadCount();
  const state = useSyncExternalStore(list.subscribe, list.getState);
  const [fetched, setFetched] = useState<Task | undefined>();
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (isLocalRef(id)) return;
    let current = true;
    setError(null);
    getTask(id)
      .then((task) => {
        if (current) setFetched(task);
        void saveTask(task);
      })
      .catch(async (failure: unknown) => {
        const cached = failure instanceof NetworkError ? await loadTask(id) : undefined;
        if (!current) return;
        if (cached) setFetched(cached);
        else if (failure instanceof ApiError && failure.status === 404) setError('There is no such task.');
        else
          setError(
            failure instanceof NetworkError
              ? 'You are offline and this task was not saved on this device.'
              : messageOf(failure),
          );
      });
    const stop = queue.onSynced((event) => {
      if ((event.kind === 'updated' || event.kind === 'created') && event.task.id === id) setFetched(event.task);
    });
    return () => {
      current = false;
      stop();
    };
  }, [id, queue, reloads]);
  useEffect(
    () =>
      changes.subscribe('task', (change) => {
        if (change.id !== id) return;
        if (change.op === 'delete') {
          setFetched(undefined);
          setError('This task was deleted, or you can no longer see it.');
          return;
        }
        const task = change.data as Task;
        setFetched((known) => (known && known.version > task.version ? known : task));
      }),
    [changes, id],
  );

  const fromList = state.items.find((task) => task.id === id);
  const task = fetched && fromList ? (fetched.version >= fromList.version ? fetched : fromList) : (fetched ?? fromList);
  return { task, error };
}

function Facts({
  task,
  project,
  members,
  editable,
}: {
  task: ViewTask;
  project: Project | undefined;
  members: readonly Member[] | null;
  editable: boolean;
}) {
  const assignee = task.assignee_id ? members?.find((m) => m.user_id === task.assignee_id) : undefined;
  return (
    <dl className="facts">
      {project && (
        <>
          <dt>Project</dt>
          <dd>
            <Link href={projectHref(project.id)}>{project.name}</Link>
          </dd>
        </>
      )}
      {task.project_id && <SectionField task={task} editable={editable} />}
      {task.parent_id && (
        <>
          <dt>Subtask of</dt>
          <dd>
            <Link href={`/tasks/${encodeURIComponent(task.parent_id)}`}>the parent task</Link>
          </dd>
        </>
      )}
      {task.assignee_id && (
        <>
          <dt>Assignee</dt>
          <dd>{assignee ? assignee.display_name || assignee.email : 'Someone'}</dd>
        </>
      )}
      <dt>Status</dt>
      <dd>{STATUS_LABELS[task.status]}</dd>
      <dt>Priority</dt>
      <dd>{PRIORITY_LABELS[task.priority]}</dd>
      <dt>Due</dt>
      <dd>{task.due_at ? <time dateTime={task.due_at}>{formatDate(task.due_at)}</time> : 'No due date'}</dd>
      {task.completed_at && (
        <>
          <dt>Completed</dt>
          <dd>{formatDateTime(task.completed_at)}</dd>
        </>
      )}
      <dt>Created</dt>
      <dd>{formatDateTime(task.created_at)}</dd>
    </dl>
  );
}

export default function TaskDetailPage() {
  const params = useParams<{ id: string }>();
  const id = decodeURIComponent(params.id);
  const { list, queue, projects } = useWorkspace();
  const me = useUser();
  const ops = useSyncExternalStore(queue.subscribe, queue.snapshot);
  const projectState = useSyncExternalStore(projects.subscribe, projects.getState);
  const { task: serverTask, error } = useServerTask(id);
  const task = applyPendingTo(serverTask, id, ops);
  const [editing, setEditing] = useState(false);
  const [, navigate] = useLocation();
  const editButton = useRef<HTMLButtonElement>(null);

  useEffect(() => void projects.ensureLoaded(), [projects]);
  const project = task?.project_id ? projects.byId(task.project_id) : undefined;
  const members = useMembers(task?.project_id || undefined);
  const synced = isLocalRef(id) ? list.serverIdOf(id) : undefined;
  if (!task && synced) return <Redirect to={`/tasks/${synced}`} replace />;

  if (!task) {
    return (
      <div className="page narrow">
        <PageHeading title="Task">{error ? 'Task not found' : 'Loading task…'}</PageHeading>
        {error && <p role="alert">{error}</p>}
        <p>
          <Link href="/tasks">Back to all tasks</Link>
        </p>
      </div>
    );
  }

  function save(changes: TaskChanges) {
    if (task && Object.keys(changes).length > 0) void list.change(task, changes);
    setEditing(false);
    requestAnimationFrame(() => editButton.current?.focus());
  }

  function remove() {
    if (!task) return;
    list.requestDelete(task);
    navigate('/tasks');
  }

  const done = task.status === 'done';
  const editable = !project || canEdit(project);
  const movable = projectState.projects.filter((p) => canEdit(p));
  return (
    <article className="page narrow task-detail">
      <p>
        <Link href="/tasks">← All tasks</Link>
      </p>
      <PageHeading title={task.title}>{task.title}</PageHeading>
      {task.pending && <p className="badge pending">Not synced yet</p>}
      {editing ? (
        <TaskEditForm
          task={task}
          onSave={save}
          onCancel={() => setEditing(false)}
          projects={movable}
          members={members}
        />
      ) : (
        <>
          <Facts task={task} project={project} members={members} editable={editable} />
          <section aria-labelledby="description-heading" className="description">
            <h2 id="description-heading">Description</h2>
            {task.description.trim() ? (
              <Markdown source={task.description} />
            ) : (
              <p className="muted">No description.</p>
            )}
          </section>
          {editable && (
            <div className="row wrap">
              <button ref={editButton} type="button" className="button primary" onClick={() => setEditing(true)}>
                Edit details
              </button>
              <button
                type="button"
                className="button"
                onClick={() => void list.change(task, { status: done ? 'todo' : 'done' })}
              >
                {done ? 'Mark as not done' : 'Mark as done'}
              </button>
              <button type="button" className="button danger" onClick={remove}>
                Delete task
              </button>
            </div>
          )}
          <section aria-labelledby="labels-heading" className="task-labels">
            <h2 id="labels-heading">Labels</h2>
            <LabelPicker task={task} editable={editable} onChange={(labels) => void list.change(task, { labels })} />
          </section>
          <Subtasks task={task} editable={editable} />
          {!isLocalRef(task.id) && <Comments taskId={task.id} meId={me.id} canComment={editable} members={members} />}
        </>
      )}
    </article>
  );
}
