// How dates and priorities read on screen.
import { PRIORITY_LABELS, type Priority } from '../api/types';

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });
const dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

export function formatDate(iso: string | null): string {
  return iso ? dateFormat.format(new Date(iso)) : '';
}

export function formatDateTime(iso: string | null): string {
  return iso ? dateTimeFormat.format(new Date(iso)) : '';
}

export function isOverdue(iso: string | null, done: boolean, now = Date.now()): boolean {
  return !done && iso !== null && new Date(iso).getTime() < now;
}

export function priorityLabel(priority: Priority): string {
  return PRIORITY_LABELS[priority];
}

/** A value for <input type="date"> from an ISO instant (local calendar day). */
export function toDateInput(iso: string | null): string {
  if (!iso) return '';
  const date = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** The end of the chosen local day as an ISO instant, or null for no date. */
export function fromDateInput(value: string): string | null {
  if (!value) return null;
  const [year, month, day] = value.split('-').map(Number);
  if (!year || !month || !day) return null;
  return new Date(year, month - 1, day, 23, 59, 0).toISOString();
}
