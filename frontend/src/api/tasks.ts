// The task endpoints (docs/api.md "Tasks").
import { ifMatch, request } from './http';
import type { Task, TaskChanges, TaskCreateBody, TaskPage } from './types';

export interface ListParams {
  project_id?: string;
  section_id?: string;
  parent_id?: string;
  /** A user id, or "me". */
  assignee_id?: string;
  /** Label ids: tasks with any of them. */
  label?: readonly string[];
  status?: string;
  priority?: string;
  q?: string;
  due_before?: string;
  due_after?: string;
  sort?: string;
  cursor?: string | null;
  limit?: number;
}

export async function listTasks(params: ListParams, signal?: AbortSignal): Promise<TaskPage> {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params) as [string, unknown][]) {
    if (Array.isArray(value)) for (const item of value) query.append(name, String(item));
    else if (value !== undefined && value !== null && value !== '') query.set(name, String(value));
  }
  const { data } = await request<TaskPage>('GET', `/tasks?${query}`, { signal });
  return data;
}

export async function getTask(id: string): Promise<Task> {
  return (await request<Task>('GET', `/tasks/${encodeURIComponent(id)}`)).data;
}

export async function createTask(body: TaskCreateBody, idempotencyKey: string): Promise<Task> {
  const headers = { 'Idempotency-Key': idempotencyKey };
  return (await request<Task>('POST', '/tasks', { json: body, headers })).data;
}

export async function patchTask(id: string, changes: TaskChanges, version: number | null): Promise<Task> {
  const headers = ifMatch(version);
  return (await request<Task>('PATCH', `/tasks/${encodeURIComponent(id)}`, { json: changes, headers })).data;
}

export async function deleteTask(id: string, version: number | null): Promise<void> {
  await request<void>('DELETE', `/tasks/${encodeURIComponent(id)}`, { headers: ifMatch(version) });
}
