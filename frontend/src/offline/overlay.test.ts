// What the list shows while changes wait in the queue.
import { describe, expect, it } from 'vitest';
import { DEFAULT_FILTERS } from '../tasks/filters';
import { makeTask } from '../test/fakeServer';
import type { QueuedOp } from './db';
import { applyPending, applyPendingTo } from './overlay';

const base = { attempts: 0, queuedAt: Date.UTC(2030, 0, 1) };

describe('applyPending', () => {
  it('shows queued creates first, newest on top, marked pending', () => {
    const server = makeTask({ title: 'From server' });
    const ops: QueuedOp[] = [
      { ...base, kind: 'create', ref: 'local-1', idempotencyKey: 'k1', body: { title: 'First offline' } },
      { ...base, kind: 'create', ref: 'local-2', idempotencyKey: 'k2', body: { title: 'Second offline' } },
    ];

    const view = applyPending([server], ops);

    expect(view.map((t) => [t.title, t.pending])).toEqual([
      ['Second offline', true],
      ['First offline', true],
      ['From server', false],
    ]);
  });

  it('applies queued edits, to server tasks and to tasks created offline', () => {
    const server = makeTask({ title: 'Old' });
    const ops: QueuedOp[] = [
      { ...base, kind: 'create', ref: 'local-1', idempotencyKey: 'k', body: { title: 'Draft' } },
      { ...base, kind: 'update', ref: 'local-1', taskId: null, baseVersion: null, changes: { title: 'Final' } },
      {
        ...base,
        kind: 'update',
        ref: server.id,
        taskId: server.id,
        baseVersion: 1,
        changes: { title: 'New', status: 'done' },
      },
    ];

    const view = applyPending([server], ops);

    expect(view.map((t) => t.title)).toEqual(['Final', 'New']);
    expect(view[1]).toEqual(expect.objectContaining({ status: 'done', pending: true, version: 1 }));
    expect(view[1]!.completed_at).not.toBeNull();
  });

  it('leaves out queued deletions and tasks waiting for their undo toast', () => {
    const keep = makeTask();
    const queued = makeTask();
    const undoable = makeTask();
    const ops: QueuedOp[] = [{ ...base, kind: 'delete', ref: queued.id, taskId: queued.id, baseVersion: 1 }];

    const view = applyPending([keep, queued, undoable], ops, { hidden: new Set([undoable.id]) });

    expect(view.map((t) => t.id)).toEqual([keep.id]);
  });

  it('shows a task created offline only in the views it matches (filters and search)', () => {
    const ops: QueuedOp[] = [
      { ...base, kind: 'create', ref: 'local-1', idempotencyKey: 'k1', body: { title: 'Buy oat milk' } },
      { ...base, kind: 'create', ref: 'local-2', idempotencyKey: 'k2', body: { title: 'Urgent call', priority: 4 } },
    ];
    const titles = (filters: Partial<typeof DEFAULT_FILTERS>) =>
      applyPending([], ops, { filters: { ...DEFAULT_FILTERS, ...filters } }).map((t) => t.title);

    expect(titles({})).toEqual(['Urgent call', 'Buy oat milk']);
    expect(titles({ q: 'milk' })).toEqual(['Buy oat milk']);
    expect(titles({ priority: '4' })).toEqual(['Urgent call']);
    expect(titles({ status: 'done' })).toEqual([]);
    expect(titles({ due: 'overdue' })).toEqual([]);
  });

  it('judges edited tasks by the filters: one that stops matching goes, one that still matches stays', () => {
    const open = makeTask({ title: 'Open', status: 'todo' });
    const other = makeTask({ title: 'Other', status: 'todo' });
    const ops: QueuedOp[] = [
      { ...base, kind: 'update', ref: open.id, taskId: open.id, baseVersion: 1, changes: { status: 'done' } },
      { ...base, kind: 'update', ref: other.id, taskId: other.id, baseVersion: 1, changes: { title: 'Renamed' } },
    ];
    const filters = { ...DEFAULT_FILTERS, status: 'todo' as const, q: 'renamed' };

    expect(applyPending([open, other], ops, { filters }).map((t) => t.title)).toEqual(['Renamed']);
  });

  it('finds edits of a synced offline task by its server id', () => {
    const synced = makeTask({ title: 'Synced' });
    const ops: QueuedOp[] = [
      { ...base, kind: 'update', ref: 'local-9', taskId: synced.id, baseVersion: 1, changes: { priority: 4 } },
    ];

    expect(applyPending([synced], ops)[0]!.priority).toBe(4);
  });
});

describe('applyPendingTo', () => {
  it('shows a task created offline by its local ref', () => {
    const ops: QueuedOp[] = [
      { ...base, kind: 'create', ref: 'local-1', idempotencyKey: 'k', body: { title: 'Offline', description: '# Hi' } },
    ];

    expect(applyPendingTo(undefined, 'local-1', ops)).toEqual(
      expect.objectContaining({ title: 'Offline', description: '# Hi' }),
    );
  });
});
