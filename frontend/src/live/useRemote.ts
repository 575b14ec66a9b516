// Hooks for screens that keep a copy of their own of something live sync may change.
import { useSyncExternalStore } from 'react';
import type { Change } from '../api/types';
import { mergeById } from '../lib/remote';
import { useWorkspace } from '../tasks/workspace';

/** Moves each time everything is to be read again: put it in the loading effect's deps. */
export function useReloadCount(): number {
  const { changes } = useWorkspace();
  return useSyncExternalStore(changes.subscribeReloads, changes.reloadCount);
}

/**
 * `items` with one change from elsewhere applied: an upsert that `belongs` here replaces its
 * copy (unless older) or joins at the end; one that no longer belongs, or a deletion, leaves.
 * The same array when nothing changed.
 */
export function withChange<T extends { id: string; version: number }>(
  items: readonly T[],
  change: Change,
  belongs: (item: T) => boolean,
): readonly T[] {
  const item = change.op === 'upsert' ? (change.data as T) : null;
  if (item && belongs(item)) return mergeById(items, { upserts: [item], deletes: [] });
  return items.some((existing) => existing.id === change.id)
    ? items.filter((existing) => existing.id !== change.id)
    : items;
}
