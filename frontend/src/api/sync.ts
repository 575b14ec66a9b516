// Incremental sync (docs/api.md "Incremental sync") and the address of the live event stream.
import { API_BASE, request } from './http';
import type { SyncPage } from './types';

/** Changes since `since`, or (without it) just a token to start from. A 410 `sync-expired`
 * means the token is too old: load everything again and start from a fresh one. */
export async function fetchChanges(since: string | null, limit?: number): Promise<SyncPage> {
  const query = new URLSearchParams();
  if (since !== null) query.set('since', since);
  if (limit !== undefined) query.set('limit', String(limit));
  const search = query.toString();
  return (await request<SyncPage>('GET', search ? `/sync?${search}` : '/sync')).data;
}

/** The Server-Sent Events stream of changes after `token` (same-origin, the session cookie). */
export function eventsUrl(token: string): string {
  return `${API_BASE}/events?since=${encodeURIComponent(token)}`;
}
