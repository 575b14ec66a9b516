// Changes from other devices for the screens that keep a copy of their own (a board's sections,
// a task's comments and subtasks, the open task), and a count of "read everything again".
import type { Change, ChangeEntity } from '../api/types';

type Listener = (change: Change) => void;

export class ChangeHub {
  private readonly listeners = new Map<ChangeEntity, Set<Listener>>();
  private readonly reloadListeners = new Set<() => void>();
  private reloads = 0;

  /** Tell each change to those listening for its kind, in order. */
  publish(changes: readonly Change[]): void {
    for (const change of changes) for (const listener of this.listeners.get(change.entity) ?? []) listener(change);
  }

  subscribe(entity: ChangeEntity, listener: Listener): () => void {
    const set = this.listeners.get(entity) ?? new Set<Listener>();
    set.add(listener);
    this.listeners.set(entity, set);
    return () => set.delete(listener);
  }

  /** The changes since the last token are lost (it expired): every screen reads again. */
  reloadAll(): void {
    this.reloads += 1;
    for (const listener of this.reloadListeners) listener();
  }

  /** How many times everything was to be read again; screens refetch when it moves. */
  readonly reloadCount = (): number => this.reloads;

  readonly subscribeReloads = (listener: () => void): (() => void) => {
    this.reloadListeners.add(listener);
    return () => this.reloadListeners.delete(listener);
  };
}
