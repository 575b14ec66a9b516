// The sync indicator's state and when the queue is replayed.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeServer, makeTask } from '../test/fakeServer';
import { dropTaskwellDB } from './db';
import { OfflineQueue } from './queue';
import { SYNC_LABELS, SyncController } from './sync';

let n = 0;
let server: FakeServer;
let queue: OfflineQueue;
let controller: SyncController;
let stop: () => void;

function setOnline(online: boolean): void {
  Object.defineProperty(navigator, 'onLine', { configurable: true, get: () => online });
  window.dispatchEvent(new Event(online ? 'online' : 'offline'));
}

beforeEach(async () => {
  n += 1;
  Object.defineProperty(navigator, 'onLine', { configurable: true, get: () => true });
  server = new FakeServer();
  queue = await OfflineQueue.open(server, `sync-test-${n}`);
  controller = new SyncController(queue, async () => undefined);
  stop = controller.start();
  await queue.flush(); // the start-up replay, so that each test begins idle
});

afterEach(async () => {
  stop();
  await vi.waitFor(() => expect(queue.isFlushing).toBe(false));
  await dropTaskwellDB(`sync-test-${n}`);
});

describe('SyncController', () => {
  it('uses exactly the three labels of the contract', () => {
    expect(Object.values(SYNC_LABELS)).toEqual(['Offline', 'Syncing…', 'Synced']);
  });

  it('is "synced" with an empty queue', async () => {
    await controller.sync();
    expect(controller.status()).toBe('synced');
  });

  it('is "offline" when the browser goes offline, and queues without sending', async () => {
    setOnline(false);
    expect(controller.status()).toBe('offline');

    await queue.create({ title: 'offline' });
    expect(await controller.sync()).toBe('offline');

    expect(server.requests).toHaveLength(0);
    expect(controller.status()).toBe('offline');
  });

  it('replays on reconnect and tells listeners', async () => {
    setOnline(false);
    await queue.create({ title: 'made offline' });
    const reconnected = vi.fn();
    controller.onReconnect(reconnected);

    setOnline(true);

    await vi.waitFor(() => expect(reconnected).toHaveBeenCalled());
    expect(server.tasks.size).toBe(1);
    expect(controller.status()).toBe('synced');
  });

  it('is "syncing" while ops wait', async () => {
    setOnline(false);
    await queue.create({ title: 'waiting' });
    Object.defineProperty(navigator, 'onLine', { configurable: true, get: () => true });
    window.dispatchEvent(new Event('online'));

    expect(controller.status()).toBe('syncing');
    await vi.waitFor(() => expect(controller.status()).toBe('synced'));
  });

  it('resolves a conflict and carries on', async () => {
    const task = server.seed(makeTask());
    await queue.update(task.id, 1, { title: 'mine' }, task);
    server.editElsewhere(task.id, { title: 'theirs' });
    expect(await controller.sync()).toBe('conflict');

    await controller.resolveConflict('mine');

    expect(server.tasks.get(task.id)!.title).toBe('mine');
    expect(controller.status()).toBe('synced');
  });

  it('backs off once per failed replay, however many changes joined it', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      await queue.create({ title: 'one' });
      server.failNext({ status: 503, type: 'database-unavailable' });

      // Five quick changes: five sync calls while the first replay is on its way.
      const outcomes = await Promise.all([1, 2, 3, 4, 5].map(() => controller.sync()));
      expect(outcomes).toEqual(Array(5).fill('retry-later'));
      expect(controller.status()).toBe('syncing');

      await vi.advanceTimersByTimeAsync(2_000); // the first retry, not the fifth doubling
      await vi.waitFor(() => expect(controller.status()).toBe('synced'));
      expect(server.tasks.size).toBe(1);
    } finally {
      vi.useRealTimers();
    }
  });
});
