// Live sync wired to the app: through the real API client (session refresh included), the
// browser's EventSource, and the token kept in IndexedDB so that a reload resumes.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { setCsrfToken } from '../api/http';
import type { Change, Task } from '../api/types';
import { forgetEverything, loadSyncToken, rememberUser, saveSyncToken } from '../offline/cache';
import { dropTaskwellDB } from '../offline/db';
import { FakeEventSource } from '../test/fakeEventSource';
import { FakeServer, makeTask } from '../test/fakeServer';
import { USER, json, problemJson } from '../test/fixtures';
import { testWorkspace } from '../test/render';
import { DEFAULT_FILTERS } from '../tasks/filters';
import type { Workspace } from '../tasks/workspace';
import { startLive } from './start';

const upsert = (task: Task): Change => ({ entity: 'task', id: task.id, op: 'upsert', data: task });

let server: FakeServer;
let workspace: Workspace & { dbName: string };
/** What GET /sync answers, by `since` ('' for none); a function may answer differently each time. */
let syncAnswers: Record<string, () => Response>;
let fetchCalls: string[];
let stopLive: (() => void) | undefined;
let stopSync: (() => void) | undefined;

function setOnline(online: boolean): void {
  Object.defineProperty(navigator, 'onLine', { configurable: true, get: () => online });
  window.dispatchEvent(new Event(online ? 'online' : 'offline'));
}

beforeEach(async () => {
  setCsrfToken('csrf');
  Object.defineProperty(navigator, 'onLine', { configurable: true, get: () => true });
  FakeEventSource.reset();
  vi.stubGlobal('EventSource', FakeEventSource);
  server = new FakeServer();
  workspace = await testWorkspace(server);
  fetchCalls = [];
  syncAnswers = { '': () => json(200, { changes: [], token: 'fresh', has_more: false }) };
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string) => {
      fetchCalls.push(url);
      const sync = url.match(/^\/api\/v1\/sync(?:\?since=([^&]*))?$/);
      if (sync) {
        const answer = syncAnswers[decodeURIComponent(sync[1] ?? '')];
        return answer ? answer() : problemJson(410, 'sync-expired');
      }
      if (url.endsWith('/auth/cookie/session')) return json(200, { signed_in: false, refreshable: true });
      if (url.endsWith('/auth/cookie/refresh')) return json(200, { csrf_token: 'renewed' });
      return json(200, { items: [], next_cursor: null });
    }),
  );
  await workspace.list.setFilters(DEFAULT_FILTERS);
});

afterEach(async () => {
  stopLive?.();
  stopSync?.();
  stopLive = stopSync = undefined;
  vi.unstubAllGlobals();
  await dropTaskwellDB(workspace.dbName);
  await dropTaskwellDB();
});

async function start(): Promise<void> {
  stopLive = startLive(workspace, await loadSyncToken());
}

const streams = (count: number) => vi.waitFor(() => expect(FakeEventSource.opened).toHaveLength(count));

describe('startLive', () => {
  it('resumes from the token the last session saved, shows what changed, and keeps the newest token', async () => {
    const missed = makeTask({ title: 'Made on the phone' });
    const live = makeTask({ title: 'Made on the laptop' });
    await saveSyncToken('t-saved');
    syncAnswers['t-saved'] = () => json(200, { changes: [upsert(missed)], token: 't1', has_more: false });

    await start();
    await streams(1);

    expect(fetchCalls).toContain('/api/v1/sync?since=t-saved');
    expect(FakeEventSource.last.url).toBe('/api/v1/events?since=t1');
    expect(workspace.list.getState().items.map((t) => t.title)).toEqual(['Made on the phone']);

    FakeEventSource.last.emit('ready', { token: 't1' }, 't1');
    FakeEventSource.last.emit('changes', { changes: [upsert(live)], token: 't2' }, 't2');

    expect(workspace.list.getState().items.map((t) => t.title)).toEqual(['Made on the laptop', 'Made on the phone']);
    expect(document.documentElement.dataset.live).toBe('live');
    await vi.waitFor(async () => expect(await loadSyncToken()).toBe('t2'));
  });

  it('on a first start takes a token, then reads the lists again', async () => {
    const reload = vi.spyOn(workspace.list, 'reload');
    const reloads = vi.fn();
    workspace.changes.subscribeReloads(reloads);

    await start();
    await streams(1);

    expect(FakeEventSource.last.url).toBe('/api/v1/events?since=fresh');
    expect(reload).toHaveBeenCalledTimes(1);
    expect(reloads).toHaveBeenCalledTimes(1); // and the screens with their own copy
    expect(await loadSyncToken()).toBe('fresh');
  });

  it('renews an expired session before reopening a stream the server closed with a 401', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      await saveSyncToken('t1');
      let refused = 0;
      syncAnswers.t1 = () => json(200, { changes: [], token: 't1', has_more: false });
      await start();
      await vi.advanceTimersByTimeAsync(0);
      expect(FakeEventSource.opened).toHaveLength(1);
      syncAnswers.t1 = () =>
        refused++ === 0 ? problemJson(401, 'unauthorized') : json(200, { changes: [], token: 't1', has_more: false });

      FakeEventSource.last.fail(); // an EventSource cannot say why: it was a 401
      await vi.advanceTimersByTimeAsync(1_000);

      expect(fetchCalls.filter((url) => url.endsWith('/auth/cookie/refresh'))).toHaveLength(1);
      expect(FakeEventSource.opened).toHaveLength(2);
    } finally {
      vi.useRealTimers();
    }
  });

  it('closes while offline, and catches up once the connection is back and the queue replayed', async () => {
    stopSync = workspace.sync.start();
    await saveSyncToken('t1');
    syncAnswers.t1 = () => json(200, { changes: [], token: 't1', has_more: false });
    await start();
    await streams(1);

    setOnline(false);
    expect(FakeEventSource.last.closed).toBe(true);
    const whileAway = makeTask({ title: 'Changed while away' });
    syncAnswers.t1 = () => json(200, { changes: [upsert(whileAway)], token: 't2', has_more: false });
    setOnline(true);

    await streams(2);
    expect(FakeEventSource.last.url).toBe('/api/v1/events?since=t2');
    expect(workspace.list.getState().items.map((t) => t.title)).toEqual(['Changed while away']);
  });

  it('stops with the workspace: stream closed, no state left on the page', async () => {
    await start();
    await streams(1);

    stopLive!();
    stopLive = undefined;

    expect(FakeEventSource.last.closed).toBe(true);
    expect(document.documentElement.dataset.live).toBeUndefined();
  });
});

describe('the saved token', () => {
  it('is forgotten on log-out, and when another person signs in on this browser', async () => {
    await saveSyncToken('t1');
    await forgetEverything();
    expect(await loadSyncToken()).toBeUndefined();

    await rememberUser(USER);
    await saveSyncToken('t2');
    await rememberUser({ ...USER, id: 'someone-else' });
    expect(await loadSyncToken()).toBeUndefined();
  });
});
