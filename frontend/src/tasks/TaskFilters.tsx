// Filters, sort and search for the list. Search waits for a pause in typing.
import { forwardRef, useEffect, useId, useState, type ReactNode } from 'react';
import { PRIORITY_LABELS, STATUS_LABELS } from '../api/types';
import { DUE_OPTIONS, SORT_OPTIONS, type Filters } from './filters';

const SEARCH_DELAY_MS = 300;

function Select({
  label,
  value,
  onChange,
  children,
}: {
  label: string;
  value: string;
  onChange(value: string): void;
  children: ReactNode;
}) {
  const id = useId();
  return (
    <div className="field compact">
      <label htmlFor={id}>{label}</label>
      <select id={id} value={value} onChange={(event) => onChange(event.target.value)}>
        {children}
      </select>
    </div>
  );
}

interface TaskFiltersProps {
  filters: Filters;
  onChange(filters: Filters): void;
}

export const TaskFilters = forwardRef<HTMLInputElement, TaskFiltersProps>(function TaskFilters(
  { filters, onChange },
  searchRef,
) {
  const searchId = useId();
  const [query, setQuery] = useState(filters.q);

  useEffect(() => setQuery(filters.q), [filters.q]);
  useEffect(() => {
    if (query === filters.q) return;
    const timer = setTimeout(() => onChange({ ...filters, q: query }), SEARCH_DELAY_MS);
    return () => clearTimeout(timer);
  }, [query, filters, onChange]);

  const set = (patch: Partial<Filters>) => onChange({ ...filters, ...patch });
  return (
    <div role="search" className="filters" aria-label="Filter tasks">
      <div className="field compact search-field">
        <label htmlFor={searchId}>Search</label>
        <input
          ref={searchRef}
          id={searchId}
          type="search"
          value={query}
          maxLength={200}
          aria-keyshortcuts="/"
          onChange={(event) => setQuery(event.target.value)}
          onKeyDown={(event) => {
            if (event.key === 'Enter') onChange({ ...filters, q: query });
          }}
        />
      </div>
      <Select label="Status" value={filters.status} onChange={(status) => set({ status: status as Filters['status'] })}>
        <option value="">All</option>
        {Object.entries(STATUS_LABELS).map(([value, label]) => (
          <option key={value} value={value}>
            {label}
          </option>
        ))}
      </Select>
      <Select
        label="Priority"
        value={filters.priority}
        onChange={(priority) => set({ priority: priority as Filters['priority'] })}
      >
        <option value="">Any</option>
        {Object.entries(PRIORITY_LABELS).map(([value, label]) => (
          <option key={value} value={value}>
            {label}
          </option>
        ))}
      </Select>
      <Select label="Due" value={filters.due} onChange={(due) => set({ due: due as Filters['due'] })}>
        {DUE_OPTIONS.map((option) => (
          <option key={option.value} value={option.value}>
            {option.label}
          </option>
        ))}
      </Select>
      <Select label="Sort" value={filters.sort} onChange={(sort) => set({ sort })}>
        {SORT_OPTIONS.map((option) => (
          <option key={option.value} value={option.value}>
            {option.label}
          </option>
        ))}
      </Select>
    </div>
  );
});
