// Shapes of the JSON the API sends and accepts (see docs/api.md).

export type TaskStatus = 'todo' | 'in_progress' | 'done';
export type Priority = 0 | 1 | 2 | 3 | 4;

export interface Task {
  id: string;
  project_id: string;
  section_id: string | null;
  parent_id: string | null;
  title: string;
  description: string;
  status: TaskStatus;
  priority: Priority;
  due_at: string | null;
  completed_at: string | null;
  position: number;
  assignee_id: string | null;
  created_by: string | null;
  /** The caller's own label ids on this task. */
  labels: string[];
  version: number;
  created_at: string;
  updated_at: string;
}

export interface TaskPage {
  items: Task[];
  next_cursor: string | null;
}

export interface TaskCreateBody {
  title: string;
  description?: string;
  status?: TaskStatus;
  priority?: Priority;
  due_at?: string | null;
  /** Omitted: the caller's Inbox. */
  project_id?: string;
  section_id?: string | null;
  parent_id?: string | null;
  assignee_id?: string | null;
  labels?: string[];
  position?: number;
}

/** The fields a PATCH may change; only the ones present are sent. */
export type TaskChanges = Partial<
  Pick<
    Task,
    | 'title'
    | 'description'
    | 'status'
    | 'priority'
    | 'due_at'
    | 'project_id'
    | 'section_id'
    | 'parent_id'
    | 'assignee_id'
    | 'labels'
    | 'position'
  >
>;

export type Role = 'owner' | 'editor' | 'viewer';

export interface Project {
  id: string;
  name: string;
  /** "#rrggbb", or null for none. */
  color: string | null;
  is_inbox: boolean;
  /** The caller's role in it. */
  role: Role;
  /** The caller's own sidebar order. */
  position: number;
  archived: boolean;
  owner_id: string;
  version: number;
  created_at: string;
  updated_at: string;
}

export type ProjectChanges = Partial<Pick<Project, 'name' | 'color' | 'position' | 'archived'>>;

export interface Section {
  id: string;
  project_id: string;
  name: string;
  position: number;
  version: number;
  created_at: string;
  updated_at: string;
}

export interface Member {
  user_id: string;
  email: string;
  display_name: string;
  role: Role;
  joined_at: string;
}

export interface Label {
  id: string;
  name: string;
  /** "#rrggbb", or null for none. */
  color: string | null;
  version: number;
  created_at: string;
  updated_at: string;
}

/** The fields a label PATCH may change; only the ones present are sent. */
export type LabelChanges = Partial<Pick<Label, 'name' | 'color'>>;

export interface Comment {
  id: string;
  task_id: string;
  author_id: string;
  /** Markdown. */
  body: string;
  version: number;
  created_at: string;
  updated_at: string;
  edited: boolean;
}

export interface CommentPage {
  items: Comment[];
  next_cursor: string | null;
}

export interface Items<T> {
  items: T[];
}

export interface Avatar {
  url_1x: string;
  url_2x: string;
}

export interface User {
  id: string;
  email: string;
  display_name: string;
  is_active: boolean;
  is_admin: boolean;
  created_at: string;
  updated_at: string;
  avatar?: Avatar | null;
}

export interface SessionInfo {
  id: string;
  created_at: string;
  last_used_at: string;
  expires_at: string;
  user_agent: string;
  ip: string;
  current: boolean;
}

export type ApiKeyScope = 'tasks:read' | 'tasks:write' | 'account:read' | 'webhooks:manage';

export interface ApiKey {
  id: string;
  name: string;
  prefix: string;
  scopes: ApiKeyScope[];
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
}

export interface ApiKeyCreated extends ApiKey {
  key: string;
}

/** What a webhook can ask for (src/taskwell/webhooks/events.py); `*` is every one. */
export type WebhookEventType =
  | 'task.updated'
  | 'task.deleted'
  | 'project.updated'
  | 'project.deleted'
  | 'section.updated'
  | 'section.deleted'
  | 'comment.updated'
  | 'comment.deleted'
  | 'label.updated'
  | 'label.deleted'
  | 'reminder.due';

export interface Webhook {
  id: string;
  url: string;
  description: string;
  /** Event types, `<entity>.*` patterns, or `*` alone. */
  event_types: string[];
  enabled: boolean;
  /** Why it is disabled (by its owner, or after failing too long); null when enabled. */
  disabled_reason: string | null;
  /** Failed attempts in a row. */
  failure_count: number;
  /** After a rotation, the old secret also signs until then. */
  previous_secret_expires_at: string | null;
  created_at: string;
  updated_at: string;
}

/** The answer to creating a webhook or rotating its secret: the only time `secret` is sent. */
export interface WebhookCreated extends Webhook {
  secret: string;
}

export interface WebhookCreateBody {
  url: string;
  event_types: string[];
  description?: string;
}

export type WebhookChanges = Partial<Pick<Webhook, 'url' | 'event_types' | 'description' | 'enabled'>>;

export interface WebhookAttempt {
  number: number;
  at: string;
  status_code: number | null;
  duration_ms: number;
  error: string | null;
  next_retry_at: string | null;
}

export type WebhookDeliveryState = 'pending' | 'delivered' | 'failed';

export interface WebhookDelivery {
  /** Sent as the webhook-id header on every attempt. */
  id: string;
  event_type: string;
  state: WebhookDeliveryState;
  attempt_count: number;
  next_attempt_at: string | null;
  created_at: string;
  finished_at: string | null;
  attempts: WebhookAttempt[];
}

export interface WebhookDeliveryPage {
  items: WebhookDelivery[];
  next_cursor: string | null;
}

/** A queued `webhook.ping`, to follow in the delivery log. */
export interface WebhookTestQueued {
  id: string;
  event_type: string;
  state: string;
  created_at: string;
}

/** RFC 9457 problem details as the API sends them. */
export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  current_version?: number;
  errors?: { field: string; in: string; message: string; code: string }[];
}

export const STATUS_LABELS: Record<TaskStatus, string> = {
  todo: 'To do',
  in_progress: 'In progress',
  done: 'Done',
};

export const ROLE_LABELS: Record<Role, string> = {
  owner: 'Owner',
  editor: 'Editor',
  viewer: 'Viewer',
};

export const PRIORITY_LABELS: Record<Priority, string> = {
  0: 'None',
  1: 'Low',
  2: 'Medium',
  3: 'High',
  4: 'Urgent',
};

/** What GET /sync and the /events stream say about one thing (docs/api.md "Incremental sync"). */
export type ChangeEntity = 'task' | 'project' | 'section' | 'comment' | 'label' | 'reminder';

export type Change =
  | { entity: ChangeEntity; id: string; op: 'upsert'; data: unknown }
  | { entity: ChangeEntity; id: string; op: 'delete' };

export interface SyncPage {
  changes: Change[];
  token: string;
  has_more?: boolean;
}

/** A reminder that has just fired: `title` is its task's title. */
export interface FiredReminder {
  id: string;
  task_id: string;
  remind_at: string;
  title: string;
}
