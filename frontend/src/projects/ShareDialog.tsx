// Who a project is shared with. The owner invites by email, changes roles, removes people and
// hands the project over; everyone sees the members and may leave. Loaded on demand.
import { useCallback, useEffect, useId, useState, type FormEvent } from 'react';
import { useLocation } from 'wouter';
import { ApiError, messageOf } from '../api/http';
import { addMember, changeMemberRole, listMembers, removeMember, transferProject } from '../api/projects';
import { ROLE_LABELS, type Member, type Project, type Role } from '../api/types';
import { useUser } from '../auth/AuthContext';
import { useWorkspace } from '../tasks/workspace';
import { Dialog } from '../ui/Dialog';
import { Field, FormError } from '../ui/Field';

type SharedRole = Exclude<Role, 'owner'>;

/** What to tell the owner for the problems an invitation can meet. */
export function inviteError(error: unknown): string {
  const slug = error instanceof ApiError ? error.slug : '';
  if (slug === 'user-not-found') return 'No Taskwell account uses this email address.';
  if (slug === 'member-exists') return 'This person is a member already.';
  if (slug === 'inbox-not-shareable') return 'The Inbox cannot be shared.';
  return messageOf(error);
}

function RoleSelect({
  label,
  id,
  value,
  onChange,
  name,
}: {
  /** Its accessible name when no <label> points at `id`. */
  label?: string;
  id?: string;
  value?: SharedRole;
  onChange?(role: SharedRole): void;
  name?: string;
}) {
  return (
    <select
      id={id}
      aria-label={label}
      name={name}
      value={value}
      defaultValue={value === undefined ? 'editor' : undefined}
      onChange={onChange && ((event) => onChange(event.target.value as SharedRole))}
    >
      <option value="editor">{ROLE_LABELS.editor}</option>
      <option value="viewer">{ROLE_LABELS.viewer}</option>
    </select>
  );
}

function nameOf(member: Member): string {
  return member.display_name || member.email;
}

export default function ShareDialog({ project, onClose }: { project: Project; onClose(): void }) {
  const me = useUser();
  const { projects } = useWorkspace();
  const [, navigate] = useLocation();
  const [members, setMembers] = useState<Member[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [inviteProblem, setInviteProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [handingOver, setHandingOver] = useState<string | null>(null);
  const owner = project.role === 'owner';
  const roleId = useId();

  const refresh = useCallback(async () => {
    try {
      setMembers(await listMembers(project.id));
    } catch (failure) {
      setError(messageOf(failure));
    }
  }, [project.id]);
  useEffect(() => void refresh(), [refresh]);

  // Buttons are not disabled while a request runs (a disabled button drops the keyboard
  // focus); a second press is ignored instead.
  async function act(action: () => Promise<unknown>) {
    if (busy) return;
    setBusy(true);
    setError(null);
    try {
      await action();
      await refresh();
    } catch (failure) {
      setError(messageOf(failure));
    } finally {
      setBusy(false);
    }
  }

  async function invite(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (busy) return;
    const form = event.currentTarget;
    const data = new FormData(form);
    setInviteProblem(null);
    setBusy(true);
    try {
      await addMember(project.id, String(data.get('email') ?? '').trim(), data.get('role') as SharedRole);
      form.reset();
      await refresh();
    } catch (failure) {
      setInviteProblem(inviteError(failure));
    } finally {
      setBusy(false);
    }
  }

  function leave() {
    void act(async () => {
      await removeMember(project.id, me.id);
      projects.forget(project.id);
      onClose();
      navigate('/tasks');
    });
  }

  /** The previous owner becomes an editor; the dialog then shows what an editor sees. */
  function transfer(member: Member) {
    setHandingOver(null);
    void act(async () => projects.place(await transferProject(project.id, member.user_id)));
  }

  return (
    <Dialog title={`Share “${project.name}”`} onClose={onClose}>
      {owner && (
        <form className="stack invite" onSubmit={(event) => void invite(event)}>
          <div className="row wrap invite-row">
            <Field label="Email" name="email" type="email" required autoComplete="off" data-autofocus />
            <div className="field compact">
              <label htmlFor={`${roleId}-role`}>Role</label>
              <RoleSelect id={`${roleId}-role`} name="role" />
            </div>
            <button type="submit" className="button primary">
              Invite
            </button>
          </div>
          <FormError message={inviteProblem} />
        </form>
      )}
      <h3>Members</h3>
      {members === null ? (
        <p className="muted">Loading…</p>
      ) : (
        <ul className="plain-list members" aria-label="Members">
          {members.map((member) => {
            const name = nameOf(member);
            const isMe = member.user_id === me.id;
            return (
              <li key={member.user_id} className="member">
                <span className="member-name">
                  {name}
                  {isMe && ' (you)'}
                  {member.display_name && <span className="muted small"> {member.email}</span>}
                </span>
                {owner && member.role !== 'owner' ? (
                  <span className="row wrap">
                    <RoleSelect
                      label={`Role of ${name}`}
                      value={member.role}
                      onChange={(role) => void act(() => changeMemberRole(project.id, member.user_id, role))}
                    />
                    {handingOver === member.user_id ? (
                      <span className="row wrap" role="group" aria-label={`Hand over to ${name}?`}>
                        <button type="button" className="button small danger" onClick={() => transfer(member)}>
                          Yes, hand over
                        </button>
                        <button type="button" className="button small" onClick={() => setHandingOver(null)}>
                          Keep it
                        </button>
                      </span>
                    ) : (
                      <button
                        type="button"
                        className="button small"
                        onClick={() => setHandingOver(member.user_id)}
                        aria-label={`Hand over to ${name}`}
                      >
                        Hand over
                      </button>
                    )}
                    <button
                      type="button"
                      className="button small danger"

                      onClick={() => void act(() => removeMember(project.id, member.user_id))}
                      aria-label={`Remove ${name}`}
                    >
                      Remove
                    </button>
                  </span>
                ) : (
                  <span className="badge">{ROLE_LABELS[member.role]}</span>
                )}
              </li>
            );
          })}
        </ul>
      )}
      <FormError message={error} />
      <div className="row wrap dialog-actions">
        {owner ? (
          <p className="muted small">To leave this project, hand it over to another member first.</p>
        ) : (
          <button type="button" className="button danger" onClick={leave}>
            Leave project
          </button>
        )}
        <button type="button" className="button" onClick={onClose} data-autofocus={owner ? undefined : true}>
          Close
        </button>
      </div>
    </Dialog>
  );
}
