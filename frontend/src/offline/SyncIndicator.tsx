// "Offline" / "Syncing…" / "Synced", announced politely when it changes.
import { useSyncExternalStore } from 'react';
import { useWorkspace } from '../tasks/workspace';
import { SYNC_LABELS } from './sync';

export function SyncIndicator() {
  const { sync } = useWorkspace();
  const status = useSyncExternalStore(sync.subscribe, sync.status);
  const label = SYNC_LABELS[status];
  return (
    <p role="status" aria-label={label} className={`sync sync-${status}`}>
      {label}
    </p>
  );
}
