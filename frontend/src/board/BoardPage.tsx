// A project's board (/tasks?project=<id>&view=board): columns by section, moves queued like
// every other task edit (If-Match, offline), sections added, renamed, moved and deleted by
// editors.
import { useEffect, useMemo, useRef, useState, useSyncExternalStore, type FormEvent } from 'react';
import { ApiError, messageOf } from '../api/http';
import { positionBetween } from '../lib/positions';
import { ProjectHeader } from '../projects/ProjectHeader';
import { canEdit } from '../projects/store';
import { NewTaskForm } from '../tasks/NewTaskForm';
import { useWorkspace } from '../tasks/workspace';
import { Field, FormError } from '../ui/Field';
import { Board, type SectionActions } from './Board';
import { buildColumns, sectionPosition } from './moves';
import { useBoardTasks } from './useBoardTasks';
import { useSections } from './useSections';

/** Why a section move was refused, for the person. */
function moveRefusal(section: string, failure: unknown): string {
  const why =
    failure instanceof ApiError && failure.status === 412
      ? 'the sections were changed elsewhere meanwhile; this is their order now.'
      : messageOf(failure);
  return `Section ${section} is back where it was: ${why}`;
}

function NewSectionForm({ onAdd }: { onAdd(name: string): Promise<void> }) {
  const [error, setError] = useState<string | null>(null);
  const [name, setName] = useState('');

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!name.trim()) return;
    setError(null);
    try {
      await onAdd(name.trim());
      setName('');
    } catch (failure) {
      setError(messageOf(failure));
    }
  }

  return (
    <form className="row wrap new-section" onSubmit={(event) => void submit(event)}>
      <Field
        label="New section"
        value={name}
        maxLength={200}
        autoComplete="off"
        onChange={(event) => setName(event.target.value)}
      />
      <button type="submit" className="button">
        Add section
      </button>
      <FormError message={error} />
    </form>
  );
}

export default function BoardPage({ projectId }: { projectId: string }) {
  const { list, projects, labels } = useWorkspace();
  useSyncExternalStore(projects.subscribe, projects.getState);
  const labelState = useSyncExternalStore(labels.subscribe, labels.getState);
  const labelsById = useMemo(() => new Map(labelState.labels.map((l) => [l.id, l])), [labelState.labels]);
  useEffect(() => void labels.ensureLoaded(), [labels]);
  const project = projects.byId(projectId);
  const editable = !project || canEdit(project);
  const board = useBoardTasks(projectId);
  const sections = useSections(projectId);
  const [sectionError, setSectionError] = useState<string | null>(null);
  const newTask = useRef<HTMLInputElement>(null);
  const columns = useMemo(() => buildColumns(sections.sections ?? [], board.tasks), [sections.sections, board.tasks]);

  const sectionActions: SectionActions = {
    onRename: (id, name) => void sections.rename(id, name).catch((e: unknown) => setSectionError(messageOf(e))),
    onDelete: (id) =>
      void sections
        .remove(id)
        // Its tasks are in no section now, with new versions: read them again.
        .then(() => list.reload())
        .catch((e: unknown) => setSectionError(messageOf(e))),
    onMove: async (id, step) => {
      const all = sections.sections ?? [];
      const position = sectionPosition(all, id, step);
      if (position === null) return;
      setSectionError(null);
      try {
        await sections.move(id, position);
      } catch (failure) {
        setSectionError(moveRefusal(all.find((s) => s.id === id)?.name ?? 'it', failure));
        throw failure;
      }
    },
  };

  function create(title: string) {
    // At the end of "No section", where the server would put it too.
    const last = columns[0]?.tasks.at(-1);
    void list.create(title, { project_id: projectId, position: positionBetween(last?.position, undefined) });
  }

  const ready = sections.sections !== null && !board.loading;
  return (
    <div className="page wide">
      <ProjectHeader projectId={projectId} view="board" />
      {editable && <NewTaskForm ref={newTask} onCreate={create} />}
      {board.fromCache && <p className="note">You are offline: showing the tasks saved on this device.</p>}
      {[board.error, sections.error, sectionError].map(
        (error, index) =>
          error && (
            <p key={index} role="alert" className="form-error">
              {error}
            </p>
          ),
      )}
      {board.notice && (
        <div role="alert" className="notice">
          <span>{board.notice}</span>
          <button type="button" className="button small quiet" onClick={() => list.dismissNotice()}>
            Dismiss
          </button>
        </div>
      )}
      {ready ? (
        <Board
          columns={columns}
          editable={editable}
          onMove={(task, changes) => list.change(task, changes)}
          onToggle={(task) => void list.toggleComplete(task)}
          sectionActions={editable ? sectionActions : undefined}
          labels={labelsById}
        />
      ) : (
        <p className="loading">Loading the board…</p>
      )}
      {editable && ready && <NewSectionForm onAdd={sections.add} />}
    </div>
  );
}
