// Last-seen data kept for offline use: the signed-in user, task list pages, single tasks,
// small lists (projects, labels, a project's sections), and the live-sync token.
import type { Task, User } from '../api/types';
import { clearAll, openTaskwellDB, type CachedPage } from './db';

/** Pages are capped so a long scroll does not fill the disk. */
const MAX_CACHED_ITEMS = 500;

const SYNC_TOKEN = 'sync-token';

export async function cachedUser(): Promise<User | undefined> {
  const user = await (await openTaskwellDB()).get('meta', 'user');
  return typeof user === 'object' ? user : undefined;
}

/** The last sync token this device applied; wiped with everything else on log-out. */
export async function loadSyncToken(): Promise<string | undefined> {
  const token = await (await openTaskwellDB()).get('meta', SYNC_TOKEN);
  return typeof token === 'string' ? token : undefined;
}

export async function saveSyncToken(token: string): Promise<void> {
  await (await openTaskwellDB()).put('meta', token, SYNC_TOKEN);
}

/** Remember who is signed in; another person's leftovers (queue included) are wiped first. */
export async function rememberUser(user: User): Promise<void> {
  const previous = await cachedUser();
  if (previous && previous.id !== user.id) await clearAll();
  await (await openTaskwellDB()).put('meta', user, 'user');
}

export async function forgetEverything(): Promise<void> {
  await clearAll();
}

export async function savePage(key: string, items: readonly Task[], nextCursor: string | null): Promise<void> {
  const db = await openTaskwellDB();
  const capped = items.slice(0, MAX_CACHED_ITEMS);
  const page: CachedPage = {
    key,
    items: capped,
    nextCursor: capped.length < items.length ? null : nextCursor,
    savedAt: Date.now(),
  };
  const tx = db.transaction(['pages', 'tasks'], 'readwrite');
  await Promise.all([
    tx.objectStore('pages').put(page),
    ...capped.map((task) => tx.objectStore('tasks').put(task)),
    tx.done,
  ]);
}

export async function loadPage(key: string): Promise<CachedPage | undefined> {
  return (await openTaskwellDB()).get('pages', key);
}

export async function saveTask(task: Task): Promise<void> {
  await (await openTaskwellDB()).put('tasks', task);
}

export async function loadTask(id: string): Promise<Task | undefined> {
  return (await openTaskwellDB()).get('tasks', id);
}

export async function loadAllTasks(): Promise<Task[]> {
  return (await openTaskwellDB()).getAll('tasks');
}

export async function forgetTask(id: string): Promise<void> {
  await (await openTaskwellDB()).delete('tasks', id);
}

export async function saveList(key: string, items: readonly unknown[]): Promise<void> {
  await (await openTaskwellDB()).put('lists', { key, items: [...items], savedAt: Date.now() });
}

export async function loadList<T>(key: string): Promise<T[] | undefined> {
  return (await (await openTaskwellDB()).get('lists', key))?.items as T[] | undefined;
}
