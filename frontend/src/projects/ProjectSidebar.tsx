// The project sidebar: "All tasks", every project (the Inbox first), a new project, archived
// projects, and each project's options. Plain links, not a list: on /tasks every listitem is
// a task (docs/frontend.md).
import { Suspense, lazy, useEffect, useId, useState, useSyncExternalStore, type FormEvent } from 'react';
import { Link, useLocation, useSearch } from 'wouter';
import { messageOf } from '../api/http';
import type { Project } from '../api/types';
import { filtersFromSearch } from '../tasks/filters';
import { useWorkspace } from '../tasks/workspace';
import { ColorDot } from '../ui/ColorDot';
import { ColorSelect } from '../ui/ColorSelect';
import { Field, FormError } from '../ui/Field';

const ProjectDialog = lazy(() => import('./ProjectDialog'));

export function projectHref(id: string): string {
  return `/tasks?project=${encodeURIComponent(id)}`;
}

/** The project the task screen shows: '' for every project, null off the task screen. */
export function useCurrentProject(): string | null {
  const [location] = useLocation();
  const search = useSearch();
  return location === '/tasks' ? filtersFromSearch(search).project : null;
}

function ProjectLink({ project, current }: { project: Project; current: boolean }) {
  return (
    <Link href={projectHref(project.id)} className="project-link" aria-current={current ? 'page' : undefined}>
      <ColorDot color={project.color} />
      <span className="project-name">{project.name}</span>
    </Link>
  );
}

function NewProjectForm({ onDone }: { onDone(project: Project | null): void }) {
  const { projects } = useWorkspace();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const data = new FormData(event.currentTarget);
    const name = String(data.get('name') ?? '').trim();
    if (!name) {
      setError('A project needs a name.');
      return;
    }
    setBusy(true);
    try {
      onDone(await projects.create(name, String(data.get('color') ?? '') || null));
    } catch (failure) {
      setError(messageOf(failure));
      setBusy(false);
    }
  }

  return (
    <form
      className="stack new-project"
      onSubmit={(event) => void submit(event)}
      onKeyDown={(event) => event.key === 'Escape' && onDone(null)}
    >
      <Field label="Project name" name="name" maxLength={200} autoFocus autoComplete="off" />
      <ColorSelect name="color" defaultValue={null} />
      <FormError message={error} />
      <div className="row">
        <button type="submit" className="button small primary" disabled={busy}>
          Create
        </button>
        <button type="button" className="button small" onClick={() => onDone(null)}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function ArchivedProjects({ current }: { current: string | null }) {
  const { projects } = useWorkspace();
  const { archived } = useSyncExternalStore(projects.subscribe, projects.getState);
  useEffect(() => void projects.loadArchived(), [projects]);
  if (!archived) return <p className="muted small">Loading…</p>;
  if (archived.length === 0) return <p className="muted small">No archived projects.</p>;
  return (
    <div className="project-links">
      {archived.map((project) => (
        <ProjectLink key={project.id} project={project} current={current === project.id} />
      ))}
    </div>
  );
}

export function ProjectSidebar() {
  const { projects } = useWorkspace();
  const state = useSyncExternalStore(projects.subscribe, projects.getState);
  const current = useCurrentProject();
  const [, navigate] = useLocation();
  const bodyId = useId();
  const [open, setOpen] = useState(false);
  const [creating, setCreating] = useState(false);
  const [showArchived, setShowArchived] = useState(false);
  const [options, setOptions] = useState<string | null>(null);
  useEffect(() => void projects.ensureLoaded(), [projects]);

  function created(project: Project | null) {
    setCreating(false);
    if (project) navigate(projectHref(project.id));
  }

  return (
    <nav aria-label="Projects" className="sidebar">
      <button
        type="button"
        className="button small sidebar-toggle"
        aria-expanded={open}
        aria-controls={bodyId}
        onClick={() => setOpen(!open)}
      >
        Projects
      </button>
      <div id={bodyId} className={`sidebar-body${open ? ' open' : ''}`}>
        <div className="project-links">
          <Link href="/tasks" className="project-link" aria-current={current === '' ? 'page' : undefined}>
            <ColorDot color={null} />
            <span className="project-name">All tasks</span>
          </Link>
          {state.projects.map((project) => (
            <div className="project-row" key={project.id}>
              <ProjectLink project={project} current={current === project.id} />
              {!project.is_inbox && (
                <button
                  type="button"
                  className="button small quiet project-options"
                  aria-label={`Options for ${project.name}`}
                  onClick={() => setOptions(project.id)}
                >
                  …
                </button>
              )}
            </div>
          ))}
        </div>
        {state.loading && !state.loaded && <p className="muted small">Loading projects…</p>}
        {state.fromCache && <p className="muted small">Offline: the projects saved on this device.</p>}
        {state.error && (
          <p role="alert" className="form-error small">
            {state.error}
          </p>
        )}
        {creating ? (
          <NewProjectForm onDone={created} />
        ) : (
          <button type="button" className="button small" onClick={() => setCreating(true)}>
            New project
          </button>
        )}
        <button
          type="button"
          className="button small quiet"
          aria-expanded={showArchived}
          onClick={() => setShowArchived(!showArchived)}
        >
          Archived projects
        </button>
        {showArchived && <ArchivedProjects current={current} />}
      </div>
      {options && (
        <Suspense fallback={null}>
          <ProjectDialog projectId={options} onClose={() => setOptions(null)} />
        </Suspense>
      )}
    </nav>
  );
}
