// The offline queue, against an in-memory API with the real one's rules.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeServer, makeTask } from '../test/fakeServer';
import { dropTaskwellDB } from './db';
import { OfflineQueue, type SyncEvent } from './queue';

let dbName: string;
let dbCount = 0;
let server: FakeServer;
let queue: OfflineQueue;
let events: SyncEvent[];

async function openQueue(): Promise<OfflineQueue> {
  const opened = await OfflineQueue.open(server, dbName);
  opened.onSynced((event) => events.push(event));
  return opened;
}

beforeEach(async () => {
  dbCount += 1;
  dbName = `queue-test-${dbCount}`;
  server = new FakeServer();
  events = [];
  queue = await openQueue();
});

afterEach(async () => {
  await dropTaskwellDB(dbName);
});

describe('ordering', () => {
  it('replays ops first in, first out', async () => {
    const a = server.seed(makeTask({ title: 'A' }));
    const b = server.seed(makeTask({ title: 'B' }));
    await queue.update(a.id, a.version, { title: 'A2' });
    await queue.create({ title: 'C' });
    await queue.remove(b.id, b.version);

    expect(await queue.flush()).toBe('done');

    expect(server.writes().map((r) => [r.method, r.id ?? (r.body as { title: string }).title])).toEqual([
      ['PATCH', a.id],
      ['POST', 'C'],
      ['DELETE', b.id],
    ]);
    expect(queue.snapshot()).toHaveLength(0);
  });

  it('keeps the queue across page loads (it lives in IndexedDB)', async () => {
    await queue.create({ title: 'Written offline' });

    const reopened = await openQueue();

    expect(reopened.snapshot()).toEqual([
      expect.objectContaining({ kind: 'create', body: { title: 'Written offline' } }),
    ]);
  });

  it('stops at a failing op so later ops never overtake it', async () => {
    const task = server.seed(makeTask());
    await queue.update(task.id, 1, { title: 'first' });
    await queue.create({ title: 'second' });
    server.failNext({ status: 503, type: 'database-unavailable' });

    expect(await queue.flush()).toBe('retry-later');

    expect(server.writes()).toHaveLength(1);
    expect(queue.snapshot().map((op) => op.kind)).toEqual(['update', 'create']);
  });
});

describe('idempotency keys', () => {
  it('chooses the key when the person acts and sends the same key on every retry', async () => {
    await queue.create({ title: 'Buy milk' });
    const op = queue.snapshot()[0];
    const key = op?.kind === 'create' ? op.idempotencyKey : '';
    server.failNext('network', 'network');

    expect(await queue.flush()).toBe('offline');
    expect(await queue.flush()).toBe('offline');
    expect(await queue.flush()).toBe('done');

    const posts = server.writes().filter((r) => r.method === 'POST');
    expect(posts).toHaveLength(3);
    expect(new Set(posts.map((r) => r.idempotencyKey))).toEqual(new Set([key]));
    expect(key).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('creates exactly one task when the response to the create is lost', async () => {
    await queue.create({ title: 'Flaky' });
    server.failNext('lost-response');

    expect(await queue.flush()).toBe('offline');
    expect(server.tasks.size).toBe(1); // the server did create it

    expect(await queue.flush()).toBe('done');
    expect(server.tasks.size).toBe(1); // the retry was answered from the idempotency record
    expect(events).toEqual([expect.objectContaining({ kind: 'created', task: [...server.tasks.values()][0] })]);
  });

  it('gives every create its own key', async () => {
    await queue.create({ title: 'one' });
    await queue.create({ title: 'two' });

    const keys = queue.snapshot().map((op) => (op.kind === 'create' ? op.idempotencyKey : ''));

    expect(keys[0]).not.toEqual(keys[1]);
  });
});

describe('a create followed by edits', () => {
  it('folds edits into a create that was never sent: one POST with the final content', async () => {
    const ref = await queue.create({ title: 'Draft' });
    await queue.update(ref, null, { title: 'Final title' });
    await queue.update(ref, null, { status: 'done' });

    expect(queue.snapshot()).toHaveLength(1);
    expect(await queue.flush()).toBe('done');

    expect(server.writes()).toEqual([
      expect.objectContaining({ method: 'POST', body: { title: 'Final title', status: 'done' } }),
    ]);
    expect([...server.tasks.values()]).toEqual([expect.objectContaining({ title: 'Final title', status: 'done' })]);
  });

  it('never changes a create once sent; the edit follows as a PATCH on the created version', async () => {
    const ref = await queue.create({ title: 'Draft' });
    server.failNext('lost-response'); // the server has it, the client does not know
    expect(await queue.flush()).toBe('offline');

    await queue.update(ref, null, { title: 'Final title' });
    expect(queue.snapshot().map((op) => op.kind)).toEqual(['create', 'update']);
    expect(await queue.flush()).toBe('done');

    const [first, retry, patch] = server.writes();
    expect(retry).toEqual(
      expect.objectContaining({ method: 'POST', body: first!.body, idempotencyKey: first!.idempotencyKey }),
    );
    const created = [...server.tasks.values()][0]!;
    expect(patch).toEqual(
      expect.objectContaining({ method: 'PATCH', id: created.id, ifMatch: 1, body: { title: 'Final title' } }),
    );
    expect(server.tasks.size).toBe(1);
    expect(created.title).toBe('Final title');
  });

  it('sends nothing for a task created and deleted while offline', async () => {
    const ref = await queue.create({ title: 'Never mind' });
    await queue.update(ref, null, { title: 'Still never mind' });
    await queue.remove(ref, null);

    expect(queue.snapshot()).toHaveLength(0);
    expect(await queue.flush()).toBe('done');
    expect(server.requests).toHaveLength(0);
  });

  it('deletes a sent create by its server id once it is known', async () => {
    const ref = await queue.create({ title: 'Short-lived' });
    server.failNext('network');
    await queue.flush();
    await queue.remove(ref, null);

    expect(await queue.flush()).toBe('done');

    expect(server.tasks.size).toBe(0);
    expect(server.writes().map((r) => r.method)).toEqual(['POST', 'POST', 'DELETE']);
  });

  it('resolves a stale local ref through the alias once the create has synced', async () => {
    const ref = await queue.create({ title: 'Made offline' });
    await queue.flush();
    const created = [...server.tasks.values()][0]!;

    await queue.update(ref, null, { title: 'Renamed' });
    await queue.flush();

    expect(server.writes()[1]).toEqual(expect.objectContaining({ method: 'PATCH', id: created.id, ifMatch: 1 }));
    expect(server.tasks.get(created.id)!.title).toBe('Renamed');
  });
});

describe('edits and If-Match', () => {
  it('sends If-Match with the version the person saw', async () => {
    const task = server.seed(makeTask({ version: 7 }));
    await queue.update(task.id, 7, { priority: 3 });

    await queue.flush();

    expect(server.writes()).toEqual([expect.objectContaining({ method: 'PATCH', ifMatch: 7, body: { priority: 3 } })]);
  });

  it('merges edits of one task made before any was sent', async () => {
    const task = server.seed(makeTask());
    await queue.update(task.id, 1, { title: 'one' });
    await queue.update(task.id, 1, { description: 'two' });

    await queue.flush();

    expect(server.writes()).toEqual([
      expect.objectContaining({ ifMatch: 1, body: { title: 'one', description: 'two' } }),
    ]);
  });

  it('is not fooled by its own edit whose answer was lost (412 on retry, change already there)', async () => {
    const task = server.seed(makeTask());
    await queue.update(task.id, 1, { title: 'one' }, task);
    server.failNext('lost-response'); // applied on the server (version 2); the answer never came
    expect(await queue.flush()).toBe('offline');
    await queue.update(task.id, 1, { status: 'done' }, task);

    expect(await queue.flush()).toBe('done');

    expect(queue.conflict).toBeNull();
    const patches = server.writes().filter((r) => r.method === 'PATCH');
    expect(patches.map((p) => p.ifMatch)).toEqual([1, 1, 2]);
    expect(server.tasks.get(task.id)).toEqual(expect.objectContaining({ title: 'one', status: 'done', version: 3 }));
  });

  it('rebases the remaining ops when an edit succeeds', async () => {
    const task = server.seed(makeTask());
    await queue.update(task.id, 1, { title: 'one' });
    server.failNext('network');
    await queue.flush(); // attempted: the next edit is queued separately
    await queue.update(task.id, 1, { status: 'done' });
    expect(queue.snapshot()).toHaveLength(2);

    expect(await queue.flush()).toBe('done');

    const patches = server.writes().filter((r) => r.method === 'PATCH');
    expect(patches.map((p) => p.ifMatch)).toEqual([1, 1, 2]);
    expect(server.tasks.get(task.id)).toEqual(expect.objectContaining({ title: 'one', status: 'done', version: 3 }));
  });
});

describe('versions this queue moved', () => {
  it('sends an edit made against a version its own replay replaced with the new one', async () => {
    // The screen still showed version 1 when the person acted again: no conflict with oneself.
    const task = server.seed(makeTask({ status: 'todo' }));
    await queue.update(task.id, 1, { status: 'done' }, task);
    expect(await queue.flush()).toBe('done');
    await queue.update(task.id, 1, { status: 'todo' }, task);
    expect(await queue.flush()).toBe('done');
    await queue.remove(task.id, 1, task);

    expect(await queue.flush()).toBe('done');

    expect(queue.conflict).toBeNull();
    expect(server.writes().map((r) => [r.method, r.ifMatch])).toEqual([
      ['PATCH', 1],
      ['PATCH', 2],
      ['DELETE', 3],
    ]);
  });

  it('still stops on a change made elsewhere after its own', async () => {
    const task = server.seed(makeTask({ title: 'Original' }));
    await queue.update(task.id, 1, { title: 'Mine' }, task);
    await queue.flush();
    server.editElsewhere(task.id, { title: 'Theirs' });
    await queue.update(task.id, 1, { title: 'Mine again' }, task);

    expect(await queue.flush()).toBe('conflict');

    expect(queue.conflict?.theirs.title).toBe('Theirs');
  });
});

describe('conflicts (412)', () => {
  it('stops with both versions when the task moved on', async () => {
    const task = server.seed(makeTask({ title: 'Original' }));
    await queue.update(task.id, 1, { title: 'Mine' }, task);
    await queue.create({ title: 'Waits behind the conflict' });
    const theirs = server.editElsewhere(task.id, { title: 'Theirs' });

    expect(await queue.flush()).toBe('conflict');

    expect(queue.conflict).toEqual({
      op: expect.objectContaining({ kind: 'update', taskId: task.id }),
      mine: expect.objectContaining({ title: 'Mine' }),
      theirs,
    });
    expect(server.writes().map((r) => r.method)).toEqual(['PATCH']);
    expect(await queue.flush()).toBe('conflict'); // nothing moves until the person chooses
  });

  it('"Keep mine" re-sends against the current version', async () => {
    const task = server.seed(makeTask({ title: 'Original' }));
    await queue.update(task.id, 1, { title: 'Mine' }, task);
    server.editElsewhere(task.id, { title: 'Theirs' });
    await queue.flush();

    await queue.resolveConflict('mine');
    expect(await queue.flush()).toBe('done');

    expect(server.writes().at(-1)).toEqual(expect.objectContaining({ method: 'PATCH', ifMatch: 2 }));
    expect(server.tasks.get(task.id)).toEqual(expect.objectContaining({ title: 'Mine', version: 3 }));
    expect(queue.conflict).toBeNull();
  });

  it('"Keep theirs" drops my change and reports their version', async () => {
    const task = server.seed(makeTask({ title: 'Original' }));
    await queue.update(task.id, 1, { title: 'Mine' }, task);
    const theirs = server.editElsewhere(task.id, { title: 'Theirs' });
    await queue.flush();

    await queue.resolveConflict('theirs');

    expect(queue.snapshot()).toHaveLength(0);
    expect(events.at(-1)).toEqual({ kind: 'updated', ref: task.id, task: theirs });
    expect(server.tasks.get(task.id)!.title).toBe('Theirs');
  });

  it('treats a deletion of a changed task as a conflict too', async () => {
    const task = server.seed(makeTask());
    await queue.remove(task.id, 1, task);
    server.editElsewhere(task.id, { title: 'Still needed' });

    expect(await queue.flush()).toBe('conflict');
    expect(queue.conflict?.mine).toBeNull();

    await queue.resolveConflict('mine');
    expect(await queue.flush()).toBe('done');
    expect(server.tasks.has(task.id)).toBe(false);
  });

  it('shows the conflict again after a reload (the op is still queued)', async () => {
    const task = server.seed(makeTask());
    await queue.update(task.id, 1, { title: 'Mine' }, task);
    server.editElsewhere(task.id, { title: 'Theirs' });
    await queue.flush();

    const reopened = await openQueue();

    expect(await reopened.flush()).toBe('conflict');
  });
});

describe('failures', () => {
  it('keeps ops queued on a network error and counts the attempt', async () => {
    const task = server.seed(makeTask());
    await queue.update(task.id, 1, { title: 'x' });
    server.failNext('network');

    expect(await queue.flush()).toBe('offline');

    expect(queue.snapshot()).toEqual([expect.objectContaining({ kind: 'update', attempts: 1 })]);
    expect(server.tasks.get(task.id)!.title).not.toBe('x');
  });

  it('drops an edit of a task deleted elsewhere and says so', async () => {
    const task = server.seed(makeTask());
    await queue.update(task.id, 1, { title: 'x' });
    server.tasks.delete(task.id);

    expect(await queue.flush()).toBe('done');

    expect(events).toEqual([{ kind: 'gone', ref: task.id, taskId: task.id }]);
  });

  it('counts a deletion of an already deleted task as done', async () => {
    const task = server.seed(makeTask());
    await queue.remove(task.id, 1);
    server.tasks.delete(task.id);

    expect(await queue.flush()).toBe('done');
    expect(events).toEqual([{ kind: 'deleted', ref: task.id, taskId: task.id }]);
  });

  it('drops a create the server refuses, with the ops that depended on it', async () => {
    const ref = await queue.create({ title: 'x' });
    server.failNext('network');
    await queue.flush();
    await queue.update(ref, null, { title: 'y' });
    server.failNext({ status: 422, type: 'validation-error' });

    expect(await queue.flush()).toBe('done');

    expect(queue.snapshot()).toHaveLength(0);
    expect(events).toEqual([expect.objectContaining({ kind: 'rejected', ref })]);
  });

  it('stops on 401 (the session is over) and keeps the op for after the next log-in', async () => {
    await queue.create({ title: 'x' });
    server.failNext({ status: 401, type: 'unauthorized' });

    expect(await queue.flush()).toBe('signed-out');
    expect(queue.snapshot()).toHaveLength(1);
  });

  it('waits on 409 (same key still in flight) and 429', async () => {
    await queue.create({ title: 'x' });
    server.failNext({ status: 409, type: 'conflict' }, { status: 429, type: 'rate-limited' });

    expect(await queue.flush()).toBe('retry-later');
    expect(await queue.flush()).toBe('retry-later');
    expect(await queue.flush()).toBe('done');
    expect(server.tasks.size).toBe(1);
  });
});

describe('concurrency', () => {
  it('runs one flush at a time and picks up ops queued meanwhile', async () => {
    await queue.create({ title: 'one' });
    const first = queue.flush();
    await queue.create({ title: 'two' });
    const second = queue.flush();

    expect(second).toBe(first);
    expect(await first).toBe('done');
    expect(server.tasks.size).toBe(2);
    expect(queue.snapshot()).toHaveLength(0);
  });
});
