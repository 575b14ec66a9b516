// The list store: loading (and the offline copy), and delete with undo.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { NetworkError } from '../api/http';
import type { Task } from '../api/types';
import { dropTaskwellDB } from '../offline/db';
import { OfflineQueue } from '../offline/queue';
import { FakeServer, makeTask } from '../test/fakeServer';
import { DEFAULT_FILTERS } from './filters';
import { TaskListStore, UNDO_MS, type ListDeps } from './store';

let server: FakeServer;
let queue: OfflineQueue;
let store: TaskListStore;
let deps: ListDeps & { pages: Map<string, { items: Task[]; nextCursor: string | null }> };
let n = 0;

beforeEach(async () => {
  n += 1;
  server = new FakeServer();
  queue = await OfflineQueue.open(server, `store-test-${n}`);
  const pages = new Map<string, { items: Task[]; nextCursor: string | null }>();
  deps = {
    pages,
    listTasks: vi.fn(async () => ({ items: [...server.tasks.values()], next_cursor: null })),
    savePage: vi.fn(async (key, items, nextCursor) => void pages.set(key, { items: [...items], nextCursor })),
    loadPage: vi.fn(async (key) => {
      const page = pages.get(key);
      return page && { key, ...page, savedAt: 0 };
    }),
    loadAllTasks: vi.fn(async () => [...pages.values()].flatMap((page) => page.items)),
    saveTask: vi.fn(async () => undefined),
    forgetTask: vi.fn(async () => undefined),
    sync: () => void queue.flush(),
  };
  store = new TaskListStore(queue, deps);
});

afterEach(async () => {
  vi.useRealTimers();
  await dropTaskwellDB(`store-test-${n}`);
});

describe('loading', () => {
  it('loads the first page and saves it for offline use', async () => {
    const task = server.seed(makeTask());

    await store.setFilters(DEFAULT_FILTERS);

    expect(store.getState().items).toEqual([task]);
    expect(deps.pages.get('')?.items).toEqual([task]);
  });

  it('shows the saved copy when the server cannot be reached', async () => {
    const task = server.seed(makeTask());
    await store.setFilters(DEFAULT_FILTERS);
    vi.mocked(deps.listTasks).mockRejectedValue(new NetworkError('offline'));

    await store.reload();

    expect(store.getState()).toEqual(expect.objectContaining({ items: [task], fromCache: true, error: null }));
  });

  it('answers a view never loaded online from every task seen on this device', async () => {
    const done = server.seed(makeTask({ title: 'Done one', status: 'done' }));
    server.seed(makeTask({ title: 'Open one' }));
    await store.setFilters(DEFAULT_FILTERS);
    vi.mocked(deps.listTasks).mockRejectedValue(new NetworkError('offline'));

    await store.setFilters({ ...DEFAULT_FILTERS, status: 'done' });

    expect(store.getState()).toEqual(expect.objectContaining({ items: [done], fromCache: true, error: null }));
  });

  it('appends the next page from the cursor without duplicates', async () => {
    const [a, b] = [makeTask(), makeTask()];
    vi.mocked(deps.listTasks)
      .mockResolvedValueOnce({ items: [a!], next_cursor: 'c1' })
      .mockResolvedValueOnce({ items: [a!, b!], next_cursor: null });
    await store.setFilters(DEFAULT_FILTERS);

    await store.loadMore();

    expect(vi.mocked(deps.listTasks).mock.calls[1]![0]).toEqual(expect.objectContaining({ cursor: 'c1' }));
    expect(store.getState().items).toEqual([a, b]);
    expect(store.getState().nextCursor).toBeNull();
  });
});

describe('delete with undo', () => {
  it('hides the task at once and deletes nothing while the toast shows', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const task = server.seed(makeTask({ title: 'Bin me' }));
    await store.setFilters(DEFAULT_FILTERS);

    store.requestDelete(task);

    expect(store.getState().hidden.has(task.id)).toBe(true);
    expect(store.getState().toast).toEqual({ id: task.id, title: 'Bin me' });
    expect(queue.snapshot()).toHaveLength(0);
  });

  it('undo brings the same task back (same id) and sends nothing', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const task = server.seed(makeTask());
    await store.setFilters(DEFAULT_FILTERS);
    store.requestDelete(task);

    expect(store.undoDelete()).toBe(task);
    await vi.advanceTimersByTimeAsync(UNDO_MS * 2);

    expect(store.getState().hidden.size).toBe(0);
    expect(server.writes()).toHaveLength(0);
    expect(server.tasks.has(task.id)).toBe(true);
  });

  it('queues the deletion (with If-Match) when the toast expires', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const task = server.seed(makeTask({ version: 4 }));
    await store.setFilters(DEFAULT_FILTERS);
    store.requestDelete(task);

    await vi.advanceTimersByTimeAsync(UNDO_MS);
    await vi.waitFor(() => expect(server.tasks.has(task.id)).toBe(false));

    expect(server.writes()).toEqual([expect.objectContaining({ method: 'DELETE', id: task.id, ifMatch: 4 })]);
    expect(store.getState().toast).toBeNull();
  });

  it('holds the toast while it is paused (focus or pointer on it)', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const task = server.seed(makeTask());
    await store.setFilters(DEFAULT_FILTERS);
    store.requestDelete(task);

    store.pauseUndoTimer();
    await vi.advanceTimersByTimeAsync(UNDO_MS * 3);

    expect(store.getState().toast).not.toBeNull();
    expect(server.writes()).toHaveLength(0);
  });

  it('commits the previous deletion when another task is deleted', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const [a, b] = [server.seed(makeTask()), server.seed(makeTask())];
    await store.setFilters(DEFAULT_FILTERS);

    store.requestDelete(a);
    store.requestDelete(b);
    await vi.waitFor(() => expect(server.tasks.has(a.id)).toBe(false));

    expect(store.getState().toast?.id).toBe(b.id);
    expect(server.tasks.has(b.id)).toBe(true);
  });
});

describe('sync events', () => {
  it('puts a created task at the top and remembers its local key', async () => {
    await store.setFilters(DEFAULT_FILTERS);

    await store.create('New one');
    await vi.waitFor(() => expect(store.getState().items).toHaveLength(1));

    const created = store.getState().items[0]!;
    expect(created.title).toBe('New one');
    expect(store.keyOf(created.id)).toMatch(/^local-/);
    expect(store.serverIdOf(store.keyOf(created.id))).toBe(created.id);
  });
});

describe('quick repeated actions', () => {
  it('toggles from the state the earlier presses left, not from the task as last rendered', async () => {
    const task = server.seed(makeTask({ status: 'todo' }));
    await store.setFilters(DEFAULT_FILTERS);

    // Four presses of `x` on the same rendered (stale) task, before any render: back to open.
    await Promise.all([1, 2, 3, 4].map(() => store.toggleComplete(task)));
    await vi.waitFor(() => expect(queue.snapshot()).toHaveLength(0));
    await queue.flush();

    expect(queue.conflict).toBeNull();
    expect(server.tasks.get(task.id)!.status).toBe('todo');
  });
});
