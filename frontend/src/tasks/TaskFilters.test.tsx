// The filter bar: the comboboxes and the searchbox the end-to-end tests use.
import { render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { DEFAULT_FILTERS, filtersFromSearch, filtersToSearch, listParams } from './filters';
import { TaskFilters } from './TaskFilters';

describe('TaskFilters', () => {
  it('offers Status, Priority, Due and Sort selects and a Search box', () => {
    render(<TaskFilters filters={DEFAULT_FILTERS} onChange={vi.fn()} />);

    for (const name of ['Status', 'Priority', 'Due', 'Sort'])
      expect(screen.getByRole('combobox', { name })).toBeInTheDocument();
    expect(screen.getByRole('searchbox', { name: 'Search' })).toBeInTheDocument();
  });

  it('reports a changed select at once', async () => {
    const onChange = vi.fn();
    render(<TaskFilters filters={DEFAULT_FILTERS} onChange={onChange} />);

    await userEvent.selectOptions(screen.getByRole('combobox', { name: 'Status' }), 'done');
    await userEvent.selectOptions(screen.getByRole('combobox', { name: 'Priority' }), 'High');

    expect(onChange).toHaveBeenNthCalledWith(1, { ...DEFAULT_FILTERS, status: 'done' });
    expect(onChange).toHaveBeenNthCalledWith(2, { ...DEFAULT_FILTERS, priority: '3' });
  });

  it('searches after a pause in typing, or at once on Enter', async () => {
    const onChange = vi.fn();
    render(<TaskFilters filters={DEFAULT_FILTERS} onChange={onChange} />);

    await userEvent.type(screen.getByRole('searchbox', { name: 'Search' }), 'milk');
    expect(onChange).not.toHaveBeenCalled();
    await waitFor(() => expect(onChange).toHaveBeenCalledTimes(1));
    expect(onChange).toHaveBeenCalledWith({ ...DEFAULT_FILTERS, q: 'milk' });

    await userEvent.type(screen.getByRole('searchbox', { name: 'Search' }), ' tea{Enter}');
    expect(onChange).toHaveBeenLastCalledWith({ ...DEFAULT_FILTERS, q: 'milk tea' });
  });
});

describe('filters in the URL and the API', () => {
  it('round-trips through the query string, leaving defaults out', () => {
    const filters = { ...DEFAULT_FILTERS, status: 'done' as const, q: 'milk' };
    expect(filtersToSearch(DEFAULT_FILTERS)).toBe('');
    expect(filtersFromSearch(filtersToSearch(filters))).toEqual(filters);
  });

  it('ignores values it does not know', () => {
    expect(filtersFromSearch('status=nope&sort=DROP&priority=9')).toEqual(DEFAULT_FILTERS);
  });

  it('turns "due today" into a due_after / due_before window', () => {
    const now = new Date(2030, 5, 15, 13, 0);
    const params = listParams({ ...DEFAULT_FILTERS, due: 'today' }, now);
    expect(new Date(params.due_after!).getDate()).toBe(15);
    expect(new Date(params.due_before!).getDate()).toBe(16);
    expect(listParams({ ...DEFAULT_FILTERS, due: 'overdue' }, now).due_before).toBe(now.toISOString());
    expect(listParams({ ...DEFAULT_FILTERS, status: 'todo', priority: '4', q: ' x ' })).toEqual(
      expect.objectContaining({ status: 'todo', priority: '4', q: 'x', sort: '-created_at' }),
    );
  });
});
