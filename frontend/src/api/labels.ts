// The label endpoints: each person's own labels (docs/api.md "Labels").
import { request } from './http';
import type { Items, Label } from './types';

export async function listLabels(): Promise<Label[]> {
  return (await request<Items<Label>>('GET', '/labels')).data.items;
}

export async function createLabel(name: string, color: string | null = null): Promise<Label> {
  return (await request<Label>('POST', '/labels', { json: { name, color } })).data;
}

export async function patchLabel(id: string, changes: { name?: string; color?: string | null }): Promise<Label> {
  return (await request<Label>('PATCH', `/labels/${encodeURIComponent(id)}`, { json: changes })).data;
}

export async function deleteLabel(id: string): Promise<void> {
  await request<void>('DELETE', `/labels/${encodeURIComponent(id)}`);
}
