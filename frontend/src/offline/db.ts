// The app's IndexedDB: the offline queue, last-seen task pages and lists (projects, labels,
// sections), the signed-in user and the live-sync token.
import { deleteDB, openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { Task, TaskChanges, TaskCreateBody, User } from '../api/types';

interface OpBase {
  seq?: number;
  /** The task as the UI names it: a server id, or a "local-…" id for a task created offline. */
  ref: string;
  /** Times a request for this op was started; a create once attempted is never changed. */
  attempts: number;
  queuedAt: number;
}

export interface CreateOp extends OpBase {
  kind: 'create';
  /** Chosen when the person acted, sent with every retry: the server creates one task. */
  idempotencyKey: string;
  body: TaskCreateBody;
}

export interface UpdateOp extends OpBase {
  kind: 'update';
  /** The server id; null while the task's create is still queued. */
  taskId: string | null;
  /** The version the person's change was made against (sent as If-Match). */
  baseVersion: number | null;
  changes: TaskChanges;
  /** The task as the person saw it, to show "yours" in a conflict. */
  seen?: Task;
}

export interface DeleteOp extends OpBase {
  kind: 'delete';
  taskId: string | null;
  baseVersion: number | null;
  seen?: Task;
}

export type QueuedOp = CreateOp | UpdateOp | DeleteOp;

/** A task created offline, once the server has it: "local-…" -> server id and version. */
export interface Alias {
  ref: string;
  id: string;
  version: number;
}

export interface CachedPage {
  key: string;
  items: Task[];
  nextCursor: string | null;
  savedAt: number;
}

/** A last-seen list other than tasks, e.g. "projects" or "sections:<project id>". */
export interface CachedList {
  key: string;
  items: unknown[];
  savedAt: number;
}

interface TaskwellSchema extends DBSchema {
  queue: { key: number; value: QueuedOp };
  aliases: { key: string; value: Alias };
  pages: { key: string; value: CachedPage };
  tasks: { key: string; value: Task };
  /** "user": the signed-in user; "sync-token": where live sync resumes (live/). */
  meta: { key: string; value: User | string };
  lists: { key: string; value: CachedList };
}

export type TaskwellDB = IDBPDatabase<TaskwellSchema>;

export const DB_NAME = 'taskwell';
const STORES = ['queue', 'aliases', 'pages', 'tasks', 'meta', 'lists'] as const;

const opened = new Map<string, Promise<TaskwellDB>>();

export function openTaskwellDB(name = DB_NAME): Promise<TaskwellDB> {
  let db = opened.get(name);
  if (!db) {
    db = openDB<TaskwellSchema>(name, 2, {
      upgrade(database, oldVersion) {
        if (oldVersion < 1) {
          database.createObjectStore('queue', { keyPath: 'seq', autoIncrement: true });
          database.createObjectStore('aliases', { keyPath: 'ref' });
          database.createObjectStore('pages', { keyPath: 'key' });
          database.createObjectStore('tasks', { keyPath: 'id' });
          database.createObjectStore('meta');
        }
        if (oldVersion < 2) database.createObjectStore('lists', { keyPath: 'key' });
      },
    });
    opened.set(name, db);
  }
  return db;
}

/** Forget everything (log out, or another person signs in on this browser). */
export async function clearAll(name = DB_NAME): Promise<void> {
  const db = await openTaskwellDB(name);
  const tx = db.transaction(STORES, 'readwrite');
  await Promise.all([...STORES.map((store) => tx.objectStore(store).clear()), tx.done]);
}

/** For tests: drop the database and its cached connection. */
export async function dropTaskwellDB(name = DB_NAME): Promise<void> {
  const db = opened.get(name);
  opened.delete(name);
  if (db) (await db).close();
  await deleteDB(name);
}
