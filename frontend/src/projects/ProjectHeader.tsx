// The task screen's heading: "Tasks", or the project shown with its List / Board switch,
// its Share button and what the caller's role allows.
import { Suspense, lazy, useState, useSyncExternalStore } from 'react';
import { Link } from 'wouter';
import { useWorkspace } from '../tasks/workspace';
import { ColorDot } from '../ui/ColorDot';
import { PageHeading } from '../ui/PageHeading';
import { canEdit } from './store';

const ShareDialog = lazy(() => import('./ShareDialog'));

export type TaskView = 'list' | 'board';

export function ProjectHeader({ projectId, view }: { projectId: string; view: TaskView }) {
  const { projects } = useWorkspace();
  const state = useSyncExternalStore(projects.subscribe, projects.getState);
  const [sharing, setSharing] = useState(false);
  if (!projectId) return <PageHeading title="Tasks">Tasks</PageHeading>;

  const project = projects.byId(projectId);
  const name = project?.name ?? (state.loaded ? 'Unknown project' : 'Project');
  const base = `/tasks?project=${encodeURIComponent(projectId)}`;
  return (
    <div className="project-head">
      <PageHeading title={name}>
        {project && <ColorDot color={project.color} />}
        {name}
      </PageHeading>
      <div className="row wrap">
        <div role="group" aria-label="View" className="view-switch">
          <Link href={base} className="button small" aria-current={view === 'list' ? 'page' : undefined}>
            List
          </Link>
          <Link
            href={`${base}&view=board`}
            className="button small"
            aria-current={view === 'board' ? 'page' : undefined}
          >
            Board
          </Link>
        </div>
        {project && !project.is_inbox && (
          <button type="button" className="button small" onClick={() => setSharing(true)}>
            Share
          </button>
        )}
      </div>
      {project?.archived && <p className="note">This project is archived.</p>}
      {project && !canEdit(project) && (
        <p className="note">You can view this project; only its editors can change it.</p>
      )}
      {sharing && project && (
        <Suspense fallback={null}>
          <ShareDialog project={project} onClose={() => setSharing(false)} />
        </Suspense>
      )}
    </div>
  );
}
