// The offline answer to a list query matches the server's rules.
import { describe, expect, it } from 'vitest';
import { makeTask } from '../test/fakeServer';
import { DEFAULT_FILTERS } from './filters';
import { queryLocally } from './localQuery';

const now = new Date(Date.UTC(2030, 5, 15, 12));
const a = makeTask({ title: 'Alpha', priority: 3, due_at: '2030-06-10T00:00:00Z', created_at: '2030-01-01T00:00:00Z' });
const b = makeTask({
  title: 'Beta',
  description: 'about milk',
  status: 'done',
  priority: 1,
  due_at: null,
  created_at: '2030-01-02T00:00:00Z',
});
const c = makeTask({ title: 'Gamma', priority: 3, due_at: '2030-06-20T00:00:00Z', created_at: '2030-01-03T00:00:00Z' });

describe('queryLocally', () => {
  it('sorts newest first by default', () => {
    expect(queryLocally([a, b, c], DEFAULT_FILTERS, now).map((t) => t.title)).toEqual(['Gamma', 'Beta', 'Alpha']);
  });

  it('filters by status, priority and text in title or description', () => {
    expect(queryLocally([a, b, c], { ...DEFAULT_FILTERS, status: 'done' }, now)).toEqual([b]);
    expect(queryLocally([a, b, c], { ...DEFAULT_FILTERS, priority: '3', sort: 'created_at' }, now)).toEqual([a, c]);
    expect(queryLocally([a, b, c], { ...DEFAULT_FILTERS, q: 'MILK' }, now)).toEqual([b]);
  });

  it('filters overdue tasks and keeps undated ones last in either direction', () => {
    expect(queryLocally([a, b, c], { ...DEFAULT_FILTERS, due: 'overdue' }, now)).toEqual([a]);
    expect(queryLocally([a, b, c], { ...DEFAULT_FILTERS, sort: 'due_at' }, now)).toEqual([a, c, b]);
    expect(queryLocally([a, b, c], { ...DEFAULT_FILTERS, sort: '-due_at' }, now)).toEqual([c, a, b]);
  });
});
