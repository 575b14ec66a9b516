// An in-memory stand-in for the task API with the same rules as the real one: versions and
// If-Match (412 with current_version), Idempotency-Key replays, 404 for unknown ids.
import { ApiError, NetworkError } from '../api/http';
import type { Task, TaskChanges, TaskCreateBody } from '../api/types';
import type { QueueTransport } from '../offline/queue';

export interface SentRequest {
  method: 'POST' | 'PATCH' | 'DELETE' | 'GET';
  id?: string;
  idempotencyKey?: string;
  ifMatch?: number | null;
  body?: unknown;
}

type Fault = 'network' | 'lost-response' | { status: number; type?: string };

let counter = 0;

export const INBOX_ID = '00000000-0000-4000-a000-000000000001';

export function makeTask(overrides: Partial<Task> = {}): Task {
  counter += 1;
  const now = new Date(Date.UTC(2030, 0, 1, 0, 0, counter)).toISOString();
  return {
    id: `00000000-0000-4000-8000-${String(counter).padStart(12, '0')}`,
    project_id: INBOX_ID,
    section_id: null,
    parent_id: null,
    assignee_id: null,
    created_by: null,
    labels: [],
    title: `Task ${counter}`,
    description: '',
    status: 'todo',
    priority: 0,
    due_at: null,
    completed_at: null,
    position: counter * 1024,
    version: 1,
    created_at: now,
    updated_at: now,
    ...overrides,
  };
}

function problem(status: number, slug: string, extra: Record<string, unknown> = {}): ApiError {
  return new ApiError(status, {
    type: `urn:taskwell:problem:${slug}`,
    title: slug,
    status,
    detail: `${slug} (test)`,
    ...extra,
  });
}

export class FakeServer implements QueueTransport {
  readonly tasks = new Map<string, Task>();
  readonly requests: SentRequest[] = [];
  private readonly idempotency = new Map<string, { body: string; task: Task }>();
  private readonly faults: Fault[] = [];

  /** The next requests fail this way, in order. */
  failNext(...faults: Fault[]): void {
    this.faults.push(...faults);
  }

  seed(task: Task): Task {
    this.tasks.set(task.id, task);
    return task;
  }

  /** Someone else edits the task (its version moves on). */
  editElsewhere(id: string, changes: TaskChanges): Task {
    const task = this.tasks.get(id)!;
    const next = { ...task, ...changes, version: task.version + 1 };
    this.tasks.set(id, next);
    return next;
  }

  private fault(): Fault | undefined {
    return this.faults.shift();
  }

  private check(fault: Fault | undefined): void {
    if (fault === 'network') throw new NetworkError('offline (test)');
    if (fault && typeof fault === 'object') throw problem(fault.status, fault.type ?? 'error');
  }

  async createTask(body: TaskCreateBody, idempotencyKey: string): Promise<Task> {
    this.requests.push({ method: 'POST', idempotencyKey, body });
    const fault = this.fault();
    this.check(fault);
    const fingerprint = JSON.stringify(body);
    const stored = this.idempotency.get(idempotencyKey);
    let task: Task;
    if (stored) {
      if (stored.body !== fingerprint) throw problem(422, 'idempotency-key-reused');
      task = stored.task;
    } else {
      task = makeTask({
        ...body,
        project_id: body.project_id ?? INBOX_ID,
        description: body.description ?? '',
        version: 1,
      });
      this.tasks.set(task.id, task);
      this.idempotency.set(idempotencyKey, { body: fingerprint, task });
    }
    if (fault === 'lost-response') throw new NetworkError('response lost (test)');
    return task;
  }

  async patchTask(id: string, changes: TaskChanges, version: number | null): Promise<Task> {
    this.requests.push({ method: 'PATCH', id, ifMatch: version, body: changes });
    const fault = this.fault();
    this.check(fault);
    const task = this.tasks.get(id);
    if (!task) throw problem(404, 'task-not-found');
    if (version !== null && version !== task.version)
      throw problem(412, 'version-mismatch', { current_version: task.version });
    const next = { ...task, ...changes, version: task.version + 1 };
    this.tasks.set(id, next);
    if (fault === 'lost-response') throw new NetworkError('response lost (test)');
    return next;
  }

  async deleteTask(id: string, version: number | null): Promise<void> {
    this.requests.push({ method: 'DELETE', id, ifMatch: version });
    const fault = this.fault();
    this.check(fault);
    const task = this.tasks.get(id);
    if (!task) throw problem(404, 'task-not-found');
    if (version !== null && version !== task.version)
      throw problem(412, 'version-mismatch', { current_version: task.version });
    this.tasks.delete(id);
    if (fault === 'lost-response') throw new NetworkError('response lost (test)');
  }

  async getTask(id: string): Promise<Task> {
    this.requests.push({ method: 'GET', id });
    this.check(this.fault());
    const task = this.tasks.get(id);
    if (!task) throw problem(404, 'task-not-found');
    return task;
  }

  writes(): SentRequest[] {
    return this.requests.filter((r) => r.method !== 'GET');
  }
}
