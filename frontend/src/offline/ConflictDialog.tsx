// A queued change met a newer version on the server (412): show both, let the person choose.
import { useSyncExternalStore } from 'react';
import { PRIORITY_LABELS, STATUS_LABELS, type Task } from '../api/types';
import { formatDate } from '../tasks/format';
import { useWorkspace } from '../tasks/workspace';
import { Dialog } from '../ui/Dialog';

function Version({ heading, task }: { heading: string; task: Task | null }) {
  return (
    <section className="version" aria-label={heading}>
      <h3>{heading}</h3>
      {task ? (
        <dl className="facts">
          <dt>Title</dt>
          <dd>{task.title}</dd>
          <dt>Status</dt>
          <dd>{STATUS_LABELS[task.status]}</dd>
          <dt>Priority</dt>
          <dd>{PRIORITY_LABELS[task.priority]}</dd>
          <dt>Due</dt>
          <dd>{task.due_at ? formatDate(task.due_at) : 'No due date'}</dd>
          <dt>Description</dt>
          <dd className="pre">{task.description ? task.description.slice(0, 500) : '—'}</dd>
        </dl>
      ) : (
        <p>Deleted</p>
      )}
    </section>
  );
}

export function ConflictDialog() {
  const { queue, sync } = useWorkspace();
  const conflict = useSyncExternalStore(queue.subscribe, () => queue.conflict);
  if (!conflict) return null;
  const { mine, theirs } = conflict;
  return (
    <Dialog title="Conflict" className="conflict">
      <p>
        “{theirs.title}” was changed somewhere else after you {mine ? 'edited' : 'deleted'} it here. Which version
        should be kept?
      </p>
      <div className="versions">
        <Version heading="Yours" task={mine} />
        <Version heading="Theirs (on the server now)" task={theirs} />
      </div>
      <div className="row wrap dialog-actions">
        <button
          type="button"
          className="button primary"
          data-autofocus
          onClick={() => void sync.resolveConflict('mine')}
        >
          Keep mine
        </button>
        <button type="button" className="button" onClick={() => void sync.resolveConflict('theirs')}>
          Keep theirs
        </button>
      </div>
    </Dialog>
  );
}
