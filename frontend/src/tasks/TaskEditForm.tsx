// Every field of a task, for the detail page.
import { useId, useState, type FormEvent } from 'react';
import {
  PRIORITY_LABELS,
  STATUS_LABELS,
  type Member,
  type Priority,
  type Project,
  type Task,
  type TaskChanges,
  type TaskStatus,
} from '../api/types';
import { fromDateInput, toDateInput } from './format';

interface TaskEditFormProps {
  task: Task;
  onSave(changes: TaskChanges): void;
  onCancel(): void;
  /** Where the task may be moved: the projects the person can edit. */
  projects?: readonly Project[];
  /** Who it may be assigned to: the members of its project. */
  members?: readonly Member[] | null;
}

type FormFields = Required<Pick<TaskChanges, 'title' | 'description' | 'status' | 'priority' | 'due_at'>> &
  Pick<TaskChanges, 'project_id' | 'assignee_id'>;

/** Only what differs from the task, so an edit never overwrites fields it did not touch. */
export function diffTask(task: Task, next: FormFields): TaskChanges {
  const changes: TaskChanges = {};
  if (next.title !== task.title) changes.title = next.title;
  if (next.description !== task.description) changes.description = next.description;
  if (next.status !== task.status) changes.status = next.status;
  if (next.priority !== task.priority) changes.priority = next.priority;
  if (toDateInput(next.due_at) !== toDateInput(task.due_at)) changes.due_at = next.due_at;
  if (next.project_id !== undefined && next.project_id !== task.project_id) changes.project_id = next.project_id;
  if (next.assignee_id !== undefined && next.assignee_id !== task.assignee_id) changes.assignee_id = next.assignee_id;
  return changes;
}

export function TaskEditForm({ task, onSave, onCancel, projects, members }: TaskEditFormProps) {
  const id = useId();
  const [error, setError] = useState<string | null>(null);

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const title = String(form.get('title') ?? '').trim();
    if (!title) {
      setError('A task needs a title.');
      return;
    }
    onSave(
      diffTask(task, {
        title,
        description: String(form.get('description') ?? ''),
        status: String(form.get('status')) as TaskStatus,
        priority: Number(form.get('priority')) as Priority,
        due_at: fromDateInput(String(form.get('due') ?? '')),
        project_id: form.has('project') ? String(form.get('project')) : undefined,
        assignee_id: form.has('assignee') ? String(form.get('assignee')) || null : undefined,
      }),
    );
  }

  return (
    <form className="stack task-edit" onSubmit={submit} onKeyDown={(event) => event.key === 'Escape' && onCancel()}>
      <div className="field">
        <label htmlFor={`${id}-title`}>Title</label>
        <input id={`${id}-title`} name="title" defaultValue={task.title} maxLength={500} required autoFocus />
      </div>
      <div className="field">
        <label htmlFor={`${id}-description`}>Description</label>
        <textarea
          id={`${id}-description`}
          name="description"
          defaultValue={task.description}
          rows={8}
          maxLength={20000}
          aria-describedby={`${id}-md`}
        />
        <p id={`${id}-md`} className="hint">
          Markdown: **bold**, _italic_, lists, [links](https://example.com), `code`.
        </p>
      </div>
      <div className="row wrap">
        <div className="field compact">
          <label htmlFor={`${id}-status`}>Status</label>
          <select id={`${id}-status`} name="status" defaultValue={task.status}>
            {Object.entries(STATUS_LABELS).map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </div>
        <div className="field compact">
          <label htmlFor={`${id}-priority`}>Priority</label>
          <select id={`${id}-priority`} name="priority" defaultValue={String(task.priority)}>
            {Object.entries(PRIORITY_LABELS).map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </div>
        <div className="field compact">
          <label htmlFor={`${id}-due`}>Due date</label>
          <input id={`${id}-due`} name="due" type="date" defaultValue={toDateInput(task.due_at)} />
        </div>
      </div>
      <div className="row wrap">
        {projects && projects.length > 1 && !task.parent_id && projects.some((p) => p.id === task.project_id) && (
          <div className="field compact">
            <label htmlFor={`${id}-project`}>Project</label>
            <select id={`${id}-project`} name="project" defaultValue={task.project_id}>
              {projects.map((project) => (
                <option key={project.id} value={project.id}>
                  {project.name}
                </option>
              ))}
            </select>
          </div>
        )}
        {members && members.length > 1 && (
          <div className="field compact">
            <label htmlFor={`${id}-assignee`}>Assignee</label>
            <select id={`${id}-assignee`} name="assignee" defaultValue={task.assignee_id ?? ''}>
              <option value="">Nobody</option>
              {members.map((member) => (
                <option key={member.user_id} value={member.user_id}>
                  {member.display_name || member.email}
                </option>
              ))}
            </select>
          </div>
        )}
      </div>
      {error && (
        <p role="alert" className="form-error">
          {error}
        </p>
      )}
      <div className="row">
        <button type="submit" className="button primary">
          Save
        </button>
        <button type="button" className="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
