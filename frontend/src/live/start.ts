// Live sync for a signed-in workspace. Loaded after the first screen (its own chunk), so the
// first load of /tasks does not carry it.
import { eventsUrl, fetchChanges } from '../api/sync';
import { saveSyncToken } from '../offline/cache';
import type { Workspace } from '../tasks/workspace';
import { ChangeApplier } from './apply';
import { LiveSync } from './LiveSync';

/** Read every list again; screens with a copy of their own hear it from the hub. */
function reloadAll(workspace: Workspace): void {
  void workspace.list.reload();
  if (workspace.projects.getState().loaded) void workspace.projects.load();
  if (workspace.labels.getState().loaded) void workspace.labels.load();
  workspace.changes.reloadAll();
}

/** Start following changes from `initialToken` (none: from now, reading everything once). */
export function startLive(workspace: Workspace, initialToken: string | undefined): () => void {
  const applier = new ChangeApplier(workspace);
  const root = document.documentElement;
  const live = new LiveSync({
    fetchChanges: (since) => fetchChanges(since),
    openStream: (token) => new EventSource(eventsUrl(token)),
    initialToken,
    saveToken: saveSyncToken,
    apply: (changes) => applier.apply(changes),
    reloadAll: () => reloadAll(workspace),
    isOnline: () => navigator.onLine,
    random: Math.random,
    // html[data-live="live"]: a hook for the end-to-end tests, like data-sw.
    onState: (state) => {
      root.dataset.live = state;
    },
  });
  const stop = live.start();
  // Back online with the queue replayed: this device's own changes are on the server, so the
  // catch-up brings them as the server has them.
  const stopResuming = workspace.sync.onReconnect(() => live.resume());
  return () => {
    stopResuming();
    stop();
    applier.close();
    delete root.dataset.live;
  };
}
