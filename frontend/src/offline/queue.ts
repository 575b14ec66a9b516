/**
 * The offline queue: every create, edit, completion and deletion goes through it, online or
 * not, so there is one path and one order. Ops live in IndexedDB and are replayed first in,
 * first out.
 *
 * Rules that keep a flaky connection from duplicating or losing work:
 * - A create carries an Idempotency-Key chosen when the person acted; every retry sends the
 *   same key and the same body, so the server creates the task once.
 * - A create that was never sent absorbs later edits (one POST with the final content). Once
 *   it has been sent its body is frozen (the same key with another body is refused by the
 *   server), and later edits are queued as PATCHes that wait for the server id.
 * - Edits and deletions carry If-Match with the version the person saw; when an op of this
 *   queue moves a task to a new version, the task's later ops are rebased onto it, and so are
 *   ops queued afterwards against the version it replaced (the screen can still show that
 *   version for a moment after the answer came back: it must not look like a conflict).
 * - A 412 stops the queue with a conflict until the person chooses "mine" or "theirs".
 * Each change of the queue is one IndexedDB read-write transaction, so two tabs cannot
 * interleave a fold with a send.
 */
import { ApiError, NetworkError } from '../api/http';
import type { Task, TaskChanges, TaskCreateBody } from '../api/types';
import { withLock } from '../lib/locks';
import { openTaskwellDB, type CreateOp, type DeleteOp, type QueuedOp, type TaskwellDB, type UpdateOp } from './db';
import { LOCAL_PREFIX, isLocalRef, randomId } from './ids';

export interface QueueTransport {
  createTask(body: TaskCreateBody, idempotencyKey: string): Promise<Task>;
  patchTask(id: string, changes: TaskChanges, version: number | null): Promise<Task>;
  deleteTask(id: string, version: number | null): Promise<void>;
  getTask(id: string): Promise<Task>;
}

export type SyncEvent =
  | { kind: 'created'; ref: string; task: Task }
  | { kind: 'updated'; ref: string; task: Task }
  | { kind: 'deleted'; ref: string; taskId: string }
  | { kind: 'gone'; ref: string; taskId: string }
  | { kind: 'rejected'; ref: string; op: QueuedOp; message: string };

export interface Conflict {
  op: UpdateOp | DeleteOp;
  /** The person's version; null when their change was a deletion. */
  mine: Task | null;
  theirs: Task;
}

/** How a flush ended: all sent, or why it stopped (the ops stay queued). */
export type FlushOutcome = 'done' | 'offline' | 'conflict' | 'retry-later' | 'signed-out';

type Step = 'next' | Exclude<FlushOutcome, 'done'>;

function sameTask(op: QueuedOp, ref: string, taskId: string | null): boolean {
  if (op.ref === ref) return true;
  return taskId !== null && op.kind !== 'create' && op.taskId === taskId;
}

/** True when the task already holds every change of the edit. */
export function alreadyApplied(changes: TaskChanges, task: Task): boolean {
  return Object.entries(changes).every(([field, value]) => {
    const current: unknown = task[field as keyof Task];
    if (field === 'due_at' && typeof value === 'string' && typeof current === 'string') {
      return Date.parse(value) === Date.parse(current);
    }
    if (Array.isArray(value) && Array.isArray(current)) {
      return JSON.stringify([...value].sort()) === JSON.stringify([...current].sort());
    }
    return current === value;
  });
}

export class OfflineQueue {
  private ops: readonly QueuedOp[] = [];
  private conflictState: Conflict | null = null;
  private flushing: Promise<FlushOutcome> | null = null;
  private rerun = false;
  private readonly listeners = new Set<() => void>();
  private readonly syncListeners = new Set<(event: SyncEvent) => void>();
  /** Task id -> (version -> the version this queue's own op turned it into). */
  private readonly ownVersions = new Map<string, Map<number, number>>();

  constructor(
    private readonly db: TaskwellDB,
    private readonly transport: QueueTransport,
    private readonly newKey: () => string = randomId,
  ) {}

  static async open(transport: QueueTransport, dbName?: string): Promise<OfflineQueue> {
    const queue = new OfflineQueue(await openTaskwellDB(dbName), transport);
    await queue.reload();
    return queue;
  }

  // --- what the UI reads ---------------------------------------------------------------

  /** The queued ops in replay order (a stable array until the next change). */
  readonly snapshot = (): readonly QueuedOp[] => this.ops;

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  onSynced(listener: (event: SyncEvent) => void): () => void {
    this.syncListeners.add(listener);
    return () => this.syncListeners.delete(listener);
  }

  get conflict(): Conflict | null {
    return this.conflictState;
  }

  get isFlushing(): boolean {
    return this.flushing !== null;
  }

  // --- what the person does --------------------------------------------------------------

  /** Queue a new task; returns the "local-…" ref the UI shows until the server has it. */
  async create(body: TaskCreateBody): Promise<string> {
    const ref = LOCAL_PREFIX + randomId();
    const op: CreateOp = {
      kind: 'create',
      ref,
      idempotencyKey: this.newKey(),
      body,
      attempts: 0,
      queuedAt: Date.now(),
    };
    await this.db.add('queue', op);
    await this.changed();
    return ref;
  }

  /** Queue an edit (or completion) made against `baseVersion` of the task. */
  async update(ref: string, baseVersion: number | null, changes: TaskChanges, seen?: Task): Promise<void> {
    const tx = this.db.transaction(['queue', 'aliases'], 'readwrite');
    const queue = tx.objectStore('queue');
    const queued = await queue.getAll(); // first: the transaction runs after earlier settles
    const target = await this.resolveRef(tx.objectStore('aliases'), ref, baseVersion);
    const last = queued.findLast((op) => sameTask(op, ref, target.taskId));
    if (last?.kind === 'create' && last.attempts === 0) {
      await queue.put({ ...last, body: { ...last.body, ...changes } });
    } else if (last?.kind === 'update' && last.attempts === 0) {
      await queue.put({ ...last, changes: { ...last.changes, ...changes } });
    } else {
      const op: UpdateOp = { kind: 'update', ref, ...target, changes, seen, attempts: 0, queuedAt: Date.now() };
      await queue.add(op);
    }
    await tx.done;
    await this.changed();
  }

  /** Queue a deletion made against `baseVersion` of the task. */
  async remove(ref: string, baseVersion: number | null, seen?: Task): Promise<void> {
    const tx = this.db.transaction(['queue', 'aliases'], 'readwrite');
    const queue = tx.objectStore('queue');
    const queued = await queue.getAll(); // first: the transaction runs after earlier settles
    const target = await this.resolveRef(tx.objectStore('aliases'), ref, baseVersion);
    const related = queued.filter((op) => sameTask(op, ref, target.taskId));
    const neverSent = related.some((op) => op.kind === 'create') && related.every((op) => op.attempts === 0);
    // Unsent edits of a task about to go need not be sent; a create never sent needs nothing.
    for (const op of related) {
      if (op.attempts === 0 && (neverSent || op.kind === 'update')) await queue.delete(op.seq!);
    }
    if (!neverSent) {
      const op: DeleteOp = { kind: 'delete', ref, ...target, seen, attempts: 0, queuedAt: Date.now() };
      await queue.add(op);
    }
    await tx.done;
    await this.changed();
  }

  private async resolveRef(
    aliases: { get(ref: string): Promise<{ id: string; version: number } | undefined> },
    ref: string,
    baseVersion: number | null,
  ): Promise<{ taskId: string | null; baseVersion: number | null }> {
    if (!isLocalRef(ref)) return { taskId: ref, baseVersion: this.currentOwnVersion(ref, baseVersion) };
    // A task created offline that the server already has (the UI may still show its local ref).
    const alias = await aliases.get(ref);
    return alias ? { taskId: alias.id, baseVersion: alias.version } : { taskId: null, baseVersion: null };
  }

  /** The version this queue's own replayed ops made out of `version` (itself if none). */
  private currentOwnVersion(taskId: string, version: number | null): number | null {
    const moves = this.ownVersions.get(taskId);
    let current = version;
    for (let step = 0; moves && current !== null && moves.has(current) && step <= moves.size; step += 1) {
      current = moves.get(current)!;
    }
    return current;
  }

  private noteOwnVersion(taskId: string, from: number | null, to: number): void {
    if (from === null || from === to) return;
    const moves = this.ownVersions.get(taskId) ?? new Map<number, number>();
    moves.set(from, to);
    this.ownVersions.set(taskId, moves);
  }

  // --- replay ------------------------------------------------------------------------

  /** Send the queued ops in order until done or something stops the queue. */
  flush(): Promise<FlushOutcome> {
    if (this.flushing) {
      this.rerun = true;
      return this.flushing;
    }
    this.flushing = this.flushRounds().finally(() => {
      this.flushing = null;
      this.notify();
    });
    this.notify();
    return this.flushing;
  }

  private async flushRounds(): Promise<FlushOutcome> {
    let outcome: FlushOutcome;
    do {
      this.rerun = false;
      // One tab at a time replays; the others' flushes wait and then find less to do.
      outcome = await withLock('taskwell-sync', () => this.drain());
    } while (this.rerun && outcome === 'done');
    return outcome;
  }

  private async drain(): Promise<FlushOutcome> {
    if (this.conflictState) return 'conflict';
    await this.reload();
    for (;;) {
      const op = await this.begin();
      if (!op) return 'done';
      const step = await this.replay(op);
      if (step !== 'next') {
        await this.reload(); // the attempt count changed
        return step;
      }
    }
  }

  /** The head op with its attempt counted (persisted before the request is made). */
  private async begin(): Promise<QueuedOp | null> {
    const tx = this.db.transaction('queue', 'readwrite');
    const cursor = await tx.store.openCursor();
    let op: QueuedOp | null = null;
    if (cursor) {
      op = { ...cursor.value, attempts: cursor.value.attempts + 1 };
      await cursor.update(op);
    }
    await tx.done;
    return op;
  }

  private async replay(op: QueuedOp): Promise<Step> {
    try {
      if (op.kind === 'create') {
        const task = await this.transport.createTask(op.body, op.idempotencyKey);
        await this.settleCreate(op, task);
        return 'next';
      }
      if (op.taskId === null) {
        // Its create was refused and dropped; nothing can carry this op any more.
        await this.dropTask(op);
        return 'next';
      }
      if (op.kind === 'update') {
        const task = await this.transport.patchTask(op.taskId, op.changes, op.baseVersion);
        await this.settleUpdate(op, task);
      } else {
        await this.transport.deleteTask(op.taskId, op.baseVersion);
        await this.dropTask(op, { kind: 'deleted', ref: op.ref, taskId: op.taskId });
      }
      return 'next';
    } catch (error) {
      return this.failed(op, error);
    }
  }

  private async failed(op: QueuedOp, error: unknown): Promise<Step> {
    if (error instanceof NetworkError) return 'offline';
    if (!(error instanceof ApiError)) return 'retry-later';
    const { status } = error;
    if (status === 412 && op.kind !== 'create') return this.conflictOn(op);
    if (status === 404 && op.kind !== 'create' && op.taskId !== null) {
      const event: SyncEvent =
        op.kind === 'delete'
          ? { kind: 'deleted', ref: op.ref, taskId: op.taskId }
          : { kind: 'gone', ref: op.ref, taskId: op.taskId };
      await this.dropTask(op, event);
      return 'next';
    }
    if (status === 401 || (status === 403 && error.slug === 'csrf-failed')) return 'signed-out';
    if ([408, 409, 425, 429].includes(status) || status >= 500) return 'retry-later';
    // The server will never accept this op (e.g. a title over the limit): drop it and say so.
    const tx = this.db.transaction('queue', 'readwrite');
    await tx.store.delete(op.seq!);
    if (op.kind === 'create') {
      for (const later of await tx.store.getAll()) if (later.ref === op.ref) await tx.store.delete(later.seq!);
    }
    await tx.done;
    await this.changed({ kind: 'rejected', ref: op.ref, op, message: error.message });
    return 'next';
  }

  private async conflictOn(op: UpdateOp | DeleteOp): Promise<Step> {
    let theirs: Task;
    try {
      theirs = await this.transport.getTask(op.taskId!);
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) {
        await this.dropTask(op, { kind: op.kind === 'delete' ? 'deleted' : 'gone', ref: op.ref, taskId: op.taskId! });
        return 'next';
      }
      return error instanceof NetworkError ? 'offline' : 'retry-later';
    }
    if (op.kind === 'update' && alreadyApplied(op.changes, theirs)) {
      // An earlier attempt got through but its answer was lost (or someone made the same
      // change): nothing to choose between.
      await this.settleUpdate(op, theirs);
      return 'next';
    }
    const mine = op.kind === 'delete' ? null : { ...(op.seen ?? theirs), ...op.changes };
    this.conflictState = { op, mine, theirs };
    this.notify();
    return 'conflict';
  }

  /** The person's answer to a conflict; the caller flushes again afterwards. */
  async resolveConflict(choice: 'mine' | 'theirs'): Promise<void> {
    const conflict = this.conflictState;
    if (!conflict) return;
    const { op, theirs } = conflict;
    const tx = this.db.transaction('queue', 'readwrite');
    if (choice === 'mine') {
      // Re-send against the current version: every queued op made against the stale one.
      for (const queued of await tx.store.getAll()) {
        if (queued.kind !== 'create' && queued.taskId === op.taskId && queued.baseVersion === op.baseVersion) {
          await tx.store.put({ ...queued, baseVersion: theirs.version });
        }
      }
    } else {
      await tx.store.delete(op.seq!);
    }
    await tx.done;
    this.conflictState = null;
    const event: SyncEvent | undefined =
      choice === 'theirs' ? { kind: 'updated', ref: op.ref, task: theirs } : undefined;
    await this.changed(event);
  }

  // --- settling a sent op (one transaction each) -----------------------------------------

  private async settleCreate(op: CreateOp, task: Task): Promise<void> {
    const tx = this.db.transaction(['queue', 'aliases'], 'readwrite');
    const queue = tx.objectStore('queue');
    await queue.delete(op.seq!);
    await tx.objectStore('aliases').put({ ref: op.ref, id: task.id, version: task.version });
    for (const later of await queue.getAll()) {
      if (later.kind !== 'create' && later.ref === op.ref) {
        await queue.put({ ...later, taskId: task.id, baseVersion: task.version });
      }
    }
    await tx.done;
    await this.changed({ kind: 'created', ref: op.ref, task });
  }

  private async settleUpdate(op: UpdateOp, task: Task): Promise<void> {
    // Noted before this transaction: any update() transaction after it reads it.
    this.noteOwnVersion(task.id, op.baseVersion, task.version);
    const tx = this.db.transaction(['queue', 'aliases'], 'readwrite');
    const queue = tx.objectStore('queue');
    await queue.delete(op.seq!);
    // Later ops made against the version this one replaced are ours: rebase them.
    for (const later of await queue.getAll()) {
      if (later.kind !== 'create' && later.taskId === task.id && later.baseVersion === op.baseVersion) {
        await queue.put({ ...later, baseVersion: task.version });
      }
    }
    const aliases = tx.objectStore('aliases');
    const alias = isLocalRef(op.ref) ? await aliases.get(op.ref) : undefined;
    if (alias) await aliases.put({ ...alias, version: task.version });
    await tx.done;
    await this.changed({ kind: 'updated', ref: op.ref, task });
  }

  /** Remove an op and every later op of the same task (the task is gone). */
  private async dropTask(op: UpdateOp | DeleteOp, event?: SyncEvent): Promise<void> {
    const tx = this.db.transaction('queue', 'readwrite');
    await tx.store.delete(op.seq!);
    for (const later of await tx.store.getAll()) {
      if (sameTask(later, op.ref, op.taskId)) await tx.store.delete(later.seq!);
    }
    await tx.done;
    await this.changed(event);
  }

  // --- plumbing ---------------------------------------------------------------------

  async reload(): Promise<void> {
    this.ops = await this.db.getAll('queue');
    this.notify();
  }

  /** Re-read the queue, then tell sync listeners and subscribers in the same tick. */
  private async changed(event?: SyncEvent): Promise<void> {
    this.ops = await this.db.getAll('queue');
    if (event) for (const listener of this.syncListeners) listener(event);
    this.notify();
  }

  private notify(): void {
    for (const listener of this.listeners) listener();
  }
}
