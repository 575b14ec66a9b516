// Reminders that fired, shown in the app until dismissed; a system notification too when the
// person already allowed them and is looking elsewhere (the app never asks on its own).
import type { FiredReminder } from '../api/types';
import { ExternalStore } from '../lib/externalStore';

export interface RemindersState {
  /** Newest last. */
  fired: readonly FiredReminder[];
}

/** Reminders older than this (a catch-up after days away) are not news any more. */
export const STALE_AFTER_MS = 24 * 60 * 60 * 1000;
const MAX_SHOWN = 5;

export type Notify = (reminder: FiredReminder) => void;

/** The system notification, only with permission granted and the page out of sight. */
export function notifySystem(reminder: FiredReminder): void {
  if (typeof Notification === 'undefined' || Notification.permission !== 'granted') return;
  if (!document.hidden) return; // the in-app one is on screen
  try {
    // One per reminder however many tabs are open: the tag replaces the same one.
    const notification = new Notification('Reminder', { body: reminder.title, tag: `reminder-${reminder.id}` });
    notification.onclick = () => window.focus();
  } catch {
    // Some mobile browsers only notify through a service worker; the in-app one remains.
  }
}

export class ReminderStore extends ExternalStore<RemindersState> {
  private readonly seen = new Set<string>();

  constructor(
    private readonly notify: Notify = notifySystem,
    private readonly now: () => number = Date.now,
  ) {
    super({ fired: [] });
  }

  /** A reminder fired (told once per stream, but a catch-up may tell it again). */
  fired(reminder: FiredReminder): void {
    if (this.seen.has(reminder.id)) return;
    this.seen.add(reminder.id);
    if (this.now() - Date.parse(reminder.remind_at) > STALE_AFTER_MS) return;
    this.set({ fired: [...this.state.fired, reminder].slice(-MAX_SHOWN) });
    this.notify(reminder);
  }

  dismiss(id: string): void {
    this.set({ fired: this.state.fired.filter((reminder) => reminder.id !== id) });
  }
}
