// The label endpoints: each person's own labels (docs/api.md "Labels").
import { ifMatch, request } from './http';
import type { Items, Label, LabelChanges } from './types';

const path = (id: string) => `/labels/${encodeURIComponent(id)}`;

export async function listLabels(): Promise<Label[]> {
  return (await request<Items<Label>>('GET', '/labels')).data.items;
}

export async function createLabel(name: string, color: string | null = null): Promise<Label> {
  return (await request<Label>('POST', '/labels', { json: { name, color } })).data;
}

/** `version`: the one the change was made against (412 if it moved on); null for any. */
export async function patchLabel(id: string, changes: LabelChanges, version: number | null): Promise<Label> {
  return (await request<Label>('PATCH', path(id), { json: changes, headers: ifMatch(version) })).data;
}

export async function deleteLabel(id: string, version: number | null): Promise<void> {
  await request<void>('DELETE', path(id), { headers: ifMatch(version) });
}
