// The project and label filters: in the URL, in the API query, and in the local rules the
// offline view and the overlay share.
import { describe, expect, it } from 'vitest';
import { listTasks } from '../api/tasks';
import { makeTask } from '../test/fakeServer';
import { DEFAULT_FILTERS, filtersFromSearch, filtersToSearch, listParams } from './filters';
import { matchesFilters } from './localQuery';
import { vi } from 'vitest';

const P = '11111111-1111-4111-8111-111111111111';
const L1 = '22222222-2222-4222-8222-222222222222';
const L2 = '33333333-3333-4333-8333-333333333333';

describe('project and label filters', () => {
  it('round-trip through the URL, labels repeated and sorted', () => {
    const filters = { ...DEFAULT_FILTERS, project: P, labels: [L2, L1] };
    const search = filtersToSearch(filters);
    expect(search).toBe(`project=${P}&label=${L1}&label=${L2}`);
    expect(filtersFromSearch(search)).toEqual({ ...filters, labels: [L1, L2] });
  });

  it('ignores ids that are not UUIDs', () => {
    expect(filtersFromSearch('project=inbox&label=x')).toEqual(DEFAULT_FILTERS);
  });

  it('become project_id and repeated label parameters of GET /tasks', async () => {
    expect(listParams({ ...DEFAULT_FILTERS, project: P, labels: [L1, L2] })).toEqual(
      expect.objectContaining({ project_id: P, label: [L1, L2] }),
    );
    const fetch = vi.fn(async () => new Response('{"items":[],"next_cursor":null}', { status: 200 }));
    vi.stubGlobal('fetch', fetch);
    await listTasks({ project_id: P, label: [L1, L2], limit: 5 });
    expect(fetch).toHaveBeenCalledWith(
      `/api/v1/tasks?project_id=${P}&label=${L1}&label=${L2}&limit=5`,
      expect.anything(),
    );
    vi.unstubAllGlobals();
  });

  it('match a task in the project with any of the labels', () => {
    const matches = matchesFilters({ ...DEFAULT_FILTERS, project: P, labels: [L1, L2] });
    expect(matches(makeTask({ project_id: P, labels: [L2] }))).toBe(true);
    expect(matches(makeTask({ project_id: P, labels: [] }))).toBe(false);
    expect(matches(makeTask({ labels: [L1] }))).toBe(false);
  });
});
