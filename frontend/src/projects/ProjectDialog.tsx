// One project's options: name and colour, archive and delete (owner); its place in the
// sidebar (everyone). Loaded on demand.
import { useState, useSyncExternalStore, type FormEvent } from 'react';
import { useLocation, useSearch } from 'wouter';
import { messageOf } from '../api/http';
import { useWorkspace } from '../tasks/workspace';
import { ColorSelect } from '../ui/ColorSelect';
import { Dialog } from '../ui/Dialog';
import { Field, FormError } from '../ui/Field';
import { filtersFromSearch } from '../tasks/filters';
import { isOwner } from './store';

export default function ProjectDialog({ projectId, onClose }: { projectId: string; onClose(): void }) {
  const { projects } = useWorkspace();
  useSyncExternalStore(projects.subscribe, projects.getState);
  const project = projects.byId(projectId);
  const [location, navigate] = useLocation();
  const search = useSearch();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [confirmDelete, setConfirmDelete] = useState(false);

  // Buttons stay enabled while a request runs (a disabled button drops the keyboard focus);
  // a second press is ignored instead.
  async function act(action: () => Promise<unknown>, close = false) {
    if (busy) return;
    setBusy(true);
    setError(null);
    try {
      await action();
      if (close) onClose();
    } catch (failure) {
      setError(messageOf(failure));
    } finally {
      setBusy(false);
    }
  }

  if (!project) return null;
  const owner = isOwner(project);

  function save(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const data = new FormData(event.currentTarget);
    const name = String(data.get('name') ?? '').trim();
    if (!name) {
      setError('A project needs a name.');
      return;
    }
    const color = String(data.get('color') ?? '') || null;
    void act(() => projects.update(projectId, { name, color }), true);
  }

  function remove() {
    void act(async () => {
      await projects.remove(projectId);
      if (location === '/tasks' && filtersFromSearch(search).project === projectId) navigate('/tasks');
    }, true);
  }

  return (
    <Dialog title={`Project “${project.name}”`} onClose={onClose}>
      {owner ? (
        <form className="stack" onSubmit={save}>
          <Field label="Name" name="name" defaultValue={project.name} maxLength={200} required data-autofocus />
          <ColorSelect name="color" defaultValue={project.color} />
          <div className="row">
            <button type="submit" className="button primary">
              Save
            </button>
          </div>
        </form>
      ) : (
        <p className="muted">Only the owner can rename, archive or delete this project.</p>
      )}
      {!project.archived && (
        <div className="row wrap dialog-actions" role="group" aria-label="Place in the sidebar">
          <button
            type="button"
            className="button small"

            onClick={() => void act(() => projects.move(projectId, -1))}
          >
            Move up
          </button>
          <button
            type="button"
            className="button small"

            onClick={() => void act(() => projects.move(projectId, 1))}
          >
            Move down
          </button>
        </div>
      )}
      {owner && (
        <div className="row wrap dialog-actions">
          <button
            type="button"
            className="button"

            onClick={() => void act(() => projects.update(projectId, { archived: !project.archived }), true)}
          >
            {project.archived ? 'Unarchive' : 'Archive'}
          </button>
          {confirmDelete ? (
            <span className="row wrap" role="group" aria-label="Confirm deletion">
              <span>Delete it and its tasks?</span>
              <button type="button" className="button danger" onClick={remove}>
                Yes, delete
              </button>
              <button type="button" className="button" onClick={() => setConfirmDelete(false)}>
                Keep it
              </button>
            </span>
          ) : (
            <button type="button" className="button danger" onClick={() => setConfirmDelete(true)}>
              Delete project
            </button>
          )}
        </div>
      )}
      <FormError message={error} />
      <div className="row dialog-actions">
        <button type="button" className="button" onClick={onClose} data-autofocus={owner ? undefined : true}>
          Close
        </button>
      </div>
    </Dialog>
  );
}
