// Tasks changed elsewhere meeting the loaded list: order, filters, pages, late echoes, and a
// page that was on its way when a change came.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Task, TaskPage } from '../api/types';
import { dropTaskwellDB } from '../offline/db';
import { applyPending } from '../offline/overlay';
import { OfflineQueue } from '../offline/queue';
import { FakeServer, makeTask } from '../test/fakeServer';
import { DEFAULT_FILTERS, type Filters } from './filters';
import { NO_REMOTE_TASKS, mergeRemoteTasks, type RemoteTasks } from './remote';
import { TaskListStore, type ListDeps } from './store';

const NEWEST_FIRST: Filters = { ...DEFAULT_FILTERS, sort: '-created_at' };
const at = (second: number) => new Date(Date.UTC(2031, 0, 1, 0, 0, second)).toISOString();
const task = (id: string, second: number, extra: Partial<Task> = {}) =>
  makeTask({ id, title: id, created_at: at(second), ...extra });
const batch = (patch: Partial<RemoteTasks>): RemoteTasks => ({ ...NO_REMOTE_TASKS, ...patch });
const ids = (items: readonly Task[]) => items.map((t) => t.id);

describe('mergeRemoteTasks', () => {
  const [c, b, a] = [task('c', 30), task('b', 20), task('a', 10)];
  const all = { filters: NEWEST_FIRST, complete: true };

  it('puts a new task where the server would list it', () => {
    const merged = mergeRemoteTasks([c, a], batch({ upserts: [b] }), all);
    expect(ids(merged)).toEqual(['c', 'b', 'a']);
  });

  it('replaces a changed task, moving it when its sort key moved', () => {
    const byPriority = { filters: { ...DEFAULT_FILTERS, sort: '-priority' }, complete: true };
    const items = [task('x', 1, { priority: 3 }), task('y', 2, { priority: 2 }), task('z', 3, { priority: 1 })];

    const merged = mergeRemoteTasks(items, batch({ upserts: [{ ...items[2]!, priority: 4, version: 2 }] }), byPriority);

    expect(ids(merged)).toEqual(['z', 'x', 'y']);
    expect(merged[0]!.priority).toBe(4);
  });

  it('leaves out a task sorted past the last one loaded while more pages follow', () => {
    const old = task('old', 1);
    expect(ids(mergeRemoteTasks([c, b], batch({ upserts: [old] }), { ...all, complete: false }))).toEqual(['c', 'b']);
    expect(ids(mergeRemoteTasks([c, b], batch({ upserts: [old] }), all))).toEqual(['c', 'b', 'old']);
  });

  it('takes a task out of a view it no longer matches, and never adds one that does not', () => {
    const todo = { filters: { ...NEWEST_FIRST, status: 'todo' as const }, complete: true };
    const done = { ...b, status: 'done' as const, version: 2 };

    expect(ids(mergeRemoteTasks([c, b, a], batch({ upserts: [done] }), todo))).toEqual(['c', 'a']);
    expect(ids(mergeRemoteTasks([c, a], batch({ upserts: [done] }), todo))).toEqual(['c', 'a']);
  });

  it('ignores a copy older than the one shown (a late echo)', () => {
    const newer = { ...b, title: 'newer', version: 3 };
    const merged = mergeRemoteTasks([c, newer, a], batch({ upserts: [{ ...b, title: 'older', version: 2 }] }), all);
    expect(merged[1]).toBe(newer);
  });

  it('drops deleted tasks, the tasks of projects gone from view, and deleted labels', () => {
    const elsewhere = task('e', 5, { project_id: 'p-gone' });
    const labelled = { ...a, labels: ['keep', 'gone'] };

    const merged = mergeRemoteTasks(
      [c, b, labelled, elsewhere],
      batch({ deletes: ['b'], goneProjects: ['p-gone'], goneLabels: ['gone'] }),
      all,
    );

    expect(ids(merged)).toEqual(['c', 'a']);
    expect(merged[1]!.labels).toEqual(['keep']);
  });
});

describe('TaskListStore.applyRemote', () => {
  let n = 0;
  let server: FakeServer;
  let queue: OfflineQueue;
  let deps: ListDeps;
  let store: TaskListStore;

  beforeEach(async () => {
    n += 1;
    server = new FakeServer();
    queue = await OfflineQueue.open(server, `remote-test-${n}`);
    deps = {
      listTasks: vi.fn(async () => ({ items: [...server.tasks.values()].reverse(), next_cursor: null })),
      savePage: vi.fn(async () => undefined),
      loadPage: vi.fn(async () => undefined),
      loadAllTasks: vi.fn(async () => []),
      saveTask: vi.fn(async () => undefined),
      forgetTask: vi.fn(async () => undefined),
      sync: () => void queue.flush(),
    };
    store = new TaskListStore(queue, deps);
  });

  afterEach(async () => {
    await vi.waitFor(() => expect(queue.isFlushing).toBe(false));
    await dropTaskwellDB(`remote-test-${n}`);
  });

  it('shows the change and keeps the offline copies current', async () => {
    const seen = server.seed(task('seen', 1));
    await store.setFilters(NEWEST_FIRST);
    const renamed = { ...seen, title: 'Renamed elsewhere', version: 2 };
    const gone = task('gone', 2);

    store.applyRemote(batch({ upserts: [renamed], deletes: [gone.id] }));

    expect(store.getState().items).toEqual([renamed]);
    expect(deps.saveTask).toHaveBeenCalledWith(renamed);
    expect(deps.forgetTask).toHaveBeenCalledWith('gone');
    expect(deps.savePage).toHaveBeenLastCalledWith('', [renamed], null);
  });

  it('replays onto a page that was on its way the changes that came meanwhile', async () => {
    const [x, y] = [task('x', 1), task('y', 2)];
    let answer: (page: TaskPage) => void = () => undefined;
    vi.mocked(deps.listTasks).mockImplementationOnce(() => new Promise((resolve) => (answer = resolve)));
    const loading = store.setFilters(NEWEST_FIRST);

    // Read by the server before these changes, answered after them:
    store.applyRemote(batch({ upserts: [{ ...x, title: 'x, renamed', version: 2 }], deletes: ['y'] }));
    answer({ items: [y, x], next_cursor: null });
    await loading;

    expect(store.getState().items.map((t) => t.title)).toEqual(['x, renamed']);
  });

  it('keeps a queued local edit on top of a newer copy from elsewhere', async () => {
    const mine = server.seed(task('mine', 1, { title: 'Before', priority: 1 }));
    await store.setFilters(NEWEST_FIRST);
    server.failNext('network');
    await store.change(mine, { title: 'My title, not sent yet' });
    await vi.waitFor(() => expect(queue.isFlushing).toBe(false));

    store.applyRemote(batch({ upserts: [{ ...mine, title: 'Their title', priority: 4, version: 2 }] }));

    const [shown] = applyPending(store.getState().items, queue.snapshot());
    expect(shown).toEqual(
      expect.objectContaining({ title: 'My title, not sent yet', priority: 4, version: 2, pending: true }),
    );
  });

  it('leaves the items alone while a view has never been shown', () => {
    store.applyRemote(batch({ upserts: [task('n', 1)] }));

    expect(store.getState().items).toEqual([]);
    expect(deps.savePage).not.toHaveBeenCalled();
    expect(deps.saveTask).toHaveBeenCalledTimes(1);
  });
});
