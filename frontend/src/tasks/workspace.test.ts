// Back online: the lists showing this device's copy are read again; the others are left to
// live sync's catch-up (no reload of everything).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { dropTaskwellDB } from '../offline/db';
import { saveList } from '../offline/cache';
import { INBOX_ID } from '../test/fakeServer';
import { PROJECT_DEFAULTS, json } from '../test/fixtures';
import { DEFAULT_FILTERS } from './filters';
import { openWorkspace, type Workspace } from './workspace';

let reachable: boolean;
let workspace: Workspace;
let stop: () => void;

beforeEach(async () => {
  reachable = true;
  Object.defineProperty(navigator, 'onLine', { configurable: true, get: () => true });
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string) => {
      if (!reachable) throw new TypeError('Failed to fetch');
      if (url.endsWith('/auth/cookie/session')) return json(200, { signed_in: true, csrf_token: 'c' });
      if (url.startsWith('/api/v1/projects')) return json(200, { items: [] });
      if (url.startsWith('/api/v1/labels')) return json(200, { items: [] });
      return json(200, { items: [], next_cursor: null });
    }),
  );
  workspace = await openWorkspace();
  stop = workspace.sync.start();
});

afterEach(async () => {
  stop();
  // Let the reads under way finish (and save what they read) before the database goes.
  await vi.waitFor(() => {
    expect(workspace.list.getState().loading).toBe('idle');
    expect(workspace.projects.getState().loading).toBe(false);
    expect(workspace.sync.status()).toBe('synced');
  });
  vi.unstubAllGlobals();
  await dropTaskwellDB();
});

async function comeBackOnline(): Promise<void> {
  reachable = true;
  const reconnected = new Promise<void>((resolve) => workspace.sync.onReconnect(resolve));
  Object.defineProperty(navigator, 'onLine', { configurable: true, get: () => true });
  window.dispatchEvent(new Event('online'));
  await reconnected;
}

describe('openWorkspace, back online', () => {
  it("reads again the lists that show this device's copy", async () => {
    await saveList('projects', [{ ...PROJECT_DEFAULTS, id: INBOX_ID, name: 'Inbox', is_inbox: true }]);
    await saveList('labels', []);
    reachable = false;
    await Promise.all([workspace.list.setFilters(DEFAULT_FILTERS), workspace.projects.load(), workspace.labels.load()]);
    expect(workspace.list.getState().fromCache).toBe(true);
    expect(workspace.projects.getState().fromCache).toBe(true);
    expect(workspace.labels.getState().fromCache).toBe(true);
    const reads = [
      vi.spyOn(workspace.list, 'reload'),
      vi.spyOn(workspace.projects, 'load'),
      vi.spyOn(workspace.labels, 'load'),
    ];

    await comeBackOnline();

    for (const read of reads) expect(read).toHaveBeenCalled();
  });

  it("leaves lists read from the server to live sync's catch-up", async () => {
    await Promise.all([workspace.list.setFilters(DEFAULT_FILTERS), workspace.projects.load(), workspace.labels.load()]);
    const reads = [
      vi.spyOn(workspace.list, 'reload'),
      vi.spyOn(workspace.projects, 'load'),
      vi.spyOn(workspace.labels, 'load'),
    ];

    await comeBackOnline();

    for (const read of reads) expect(read).not.toHaveBeenCalled();
  });
});
