// Fired reminders as a polite live region: each stays until dismissed (no time limit to read).
import { useSyncExternalStore } from 'react';
import { Link } from 'wouter';
import { formatDateTime } from '../tasks/format';
import { useWorkspace } from '../tasks/workspace';

export function Reminders() {
  const { reminders } = useWorkspace();
  const { fired } = useSyncExternalStore(reminders.subscribe, reminders.getState);
  // Always in the document: a live region added together with its content is not announced.
  return (
    <div className="reminders" role="log" aria-live="polite" aria-label="Reminders">
      {fired.map((reminder) => (
        <div className="reminder" key={reminder.id}>
          <p className="reminder-text">
            Reminder: <Link href={`/tasks/${encodeURIComponent(reminder.task_id)}`}>{reminder.title}</Link>{' '}
            <time className="small" dateTime={reminder.remind_at}>
              {formatDateTime(reminder.remind_at)}
            </time>
          </p>
          <button
            type="button"
            className="button small quiet"
            aria-label={`Dismiss reminder ${reminder.title}`}
            onClick={() => reminders.dismiss(reminder.id)}
          >
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
