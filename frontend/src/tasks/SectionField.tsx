// A task's board section on its detail page: a native select, so a card changes section on a
// touch screen too (board drag and drop needs a mouse, its Move button arrow keys).
import { useEffect, useId, useMemo, useState } from 'react';
import { buildColumns } from '../board/moves';
import { useSections } from '../board/useSections';
import type { ViewTask } from '../offline/overlay';
import { FormError } from '../ui/Field';
import { useWorkspace } from './workspace';

interface SectionFieldProps {
  /** A task with a project (`project_id` not empty). */
  task: ViewTask;
  editable: boolean;
}

/** A `<dt>`/`<dd>` pair for the task's facts; nothing when the project has no sections. */
export function SectionField({ task, editable }: SectionFieldProps) {
  const { list, queue } = useWorkspace();
  // Follows the task's project: a task moved elsewhere lists that project's sections.
  const { sections, error: loadError } = useSections(task.project_id);
  const [error, setError] = useState<string | null>(null);
  const [announcement, setAnnouncement] = useState('');
  const id = useId();
  // The board's columns, in its order: "No section" first, then the sections by position.
  // (Filtered: for one render after a project move the hook still holds the old project's.)
  const own = useMemo(
    () => sections?.filter((s) => s.project_id === task.project_id) ?? null,
    [sections, task.project_id],
  );
  const columns = useMemo(() => buildColumns(own ?? [], []), [own]);

  // The queue drops a change the server will never accept (e.g. a section deleted meanwhile)
  // and says why; the detail page shows it here, by the field.
  useEffect(
    () =>
      queue.onSynced((event) => {
        if (event.kind !== 'rejected' || event.op.kind !== 'update' || !('section_id' in event.op.changes)) return;
        if (event.op.ref === task.id || event.op.taskId === task.id) setError(event.message);
      }),
    [queue, task.id],
  );

  if (loadError) {
    return (
      <>
        <dt>Section</dt>
        <dd>
          <FormError message={loadError} />
        </dd>
      </>
    );
  }
  if (own === null || own.length === 0) return null;

  // A section this project does not have (deleted, or left behind by a queued project move)
  // shows as "No section", as on the board, where the server puts such a task.
  const current = columns.find((column) => column.id !== null && column.id === task.section_id) ?? columns[0]!;
  if (!editable) {
    return (
      <>
        <dt>Section</dt>
        <dd>{current.name}</dd>
      </>
    );
  }

  function choose(value: string) {
    const column = columns.find((c) => (c.id ?? '') === value);
    if (!column || column.id === current.id) return;
    setError(null);
    setAnnouncement(`Moved to ${column.name}.`);
    void list.change(task, { section_id: column.id });
  }

  return (
    <>
      <dt className="section-field-label">
        <label htmlFor={id}>Section</label>
      </dt>
      <dd className="section-field">
        <select
          id={id}
          value={current.id ?? ''}
          aria-describedby={`${id}-error`}
          onChange={(event) => choose(event.target.value)}
        >
          {columns.map((column) => (
            <option key={column.id ?? ''} value={column.id ?? ''}>
              {column.name}
            </option>
          ))}
        </select>
        <FormError id={`${id}-error`} message={error} />
        {/* Always in the document: a live region added together with its text is not read. */}
        <p className="visually-hidden" aria-live="polite">
          {announcement}
        </p>
      </dd>
    </>
  );
}
