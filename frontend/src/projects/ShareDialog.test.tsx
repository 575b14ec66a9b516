// Sharing a project: invitations and their problems, roles, removal, hand-over, leaving.
import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { setCsrfToken } from '../api/http';
import type { Member, Project } from '../api/types';
import { AuthProvider } from '../auth/AuthContext';
import { dropTaskwellDB } from '../offline/db';
import { FakeServer } from '../test/fakeServer';
import { PROJECT_DEFAULTS, USER, fakeApi, json, problemJson } from '../test/fixtures';
import { renderAt, testWorkspace, withWorkspace } from '../test/render';
import type { Workspace } from '../tasks/workspace';
import ShareDialog from './ShareDialog';

const ADA: Member = { user_id: USER.id, email: USER.email, display_name: 'Ada', role: 'owner', joined_at: '' };
const BOB: Member = { user_id: 'u2', email: 'bob@example.com', display_name: 'Bob', role: 'editor', joined_at: '' };

let workspace: Workspace & { dbName: string };
let api: ReturnType<typeof fakeApi>;
let members: Member[];

beforeEach(async () => {
  setCsrfToken('csrf');
  workspace = await testWorkspace(new FakeServer());
  members = [ADA, BOB];
  api = fakeApi([
    ['GET', /\/members$/, () => json(200, { items: members })],
    [
      'POST',
      /\/members$/,
      (_, body) => {
        const { email, role } = body as { email: string; role: Member['role'] };
        if (email === 'nobody@example.com') return problemJson(404, 'user-not-found');
        if (members.some((m) => m.email === email)) return problemJson(409, 'member-exists');
        const member = { user_id: 'u3', email, display_name: '', role, joined_at: '' };
        members = [...members, member];
        return json(201, member);
      },
    ],
    [
      'PATCH',
      /\/members\/(\w+)$/,
      (m, body) => {
        members = members.map((x) => (x.user_id === m[1] ? { ...x, ...(body as object) } : x));
        return json(200, {});
      },
    ],
    [
      'DELETE',
      /\/members\/(\w+)$/,
      (m) => {
        members = members.filter((x) => x.user_id !== m[1]);
        return json(204, null);
      },
    ],
    ['POST', /\/transfer$/, () => json(200, { ...PROJECT_DEFAULTS, id: 'p', name: 'Club', role: 'editor' })],
  ]);
  vi.stubGlobal('fetch', vi.fn(api.fetch));
});

afterEach(async () => {
  vi.unstubAllGlobals();
  await dropTaskwellDB(workspace.dbName);
});

function renderDialog(role: Project['role'] = 'owner') {
  const project: Project = { ...PROJECT_DEFAULTS, id: 'p', name: 'Club', role };
  const onClose = vi.fn();
  const result = renderAt(
    '/tasks?project=p',
    <AuthProvider initial={{ status: 'signed-in', user: USER, offline: false }}>
      {withWorkspace(workspace, <ShareDialog project={project} onClose={onClose} />)}
    </AuthProvider>,
  );
  return { ...result, onClose, dialog: screen.getByRole('dialog', { name: 'Share “Club”' }) };
}

describe('ShareDialog', () => {
  it('invites by email with a role, and says why an invitation failed', async () => {
    const { dialog } = renderDialog();
    const email = within(dialog).getByRole('textbox', { name: 'Email' });
    expect(email).toHaveFocus();
    await within(dialog).findByText('Bob');

    await userEvent.type(email, 'nobody@example.com');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Invite' }));
    expect(await within(dialog).findByText('No Taskwell account uses this email address.')).toHaveAttribute(
      'role',
      'alert',
    );

    await userEvent.clear(email);
    await userEvent.type(email, 'bob@example.com{Enter}');
    expect(await within(dialog).findByText('This person is a member already.')).toBeInTheDocument();

    await userEvent.clear(email);
    await userEvent.type(email, 'cy@example.com');
    await userEvent.selectOptions(within(dialog).getByRole('combobox', { name: 'Role' }), 'viewer');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Invite' }));
    const list = within(dialog).getByRole('list', { name: 'Members' });
    expect(await within(list).findByText('cy@example.com')).toBeInTheDocument();
    expect(api.calls).toContainEqual(
      expect.objectContaining({ method: 'POST', body: { email: 'cy@example.com', role: 'viewer' } }),
    );
  });

  it('changes a role and removes a member', async () => {
    const { dialog } = renderDialog();
    const role = await within(dialog).findByRole('combobox', { name: 'Role of Bob' });

    await userEvent.selectOptions(role, 'viewer');
    await waitFor(() => expect(members[1]!.role).toBe('viewer'));
    await userEvent.click(within(dialog).getByRole('button', { name: 'Remove Bob' }));

    await waitFor(() => expect(within(dialog).queryByText('Bob')).not.toBeInTheDocument());
  });

  it('hands the project over', async () => {
    const { dialog } = renderDialog();
    await userEvent.click(await within(dialog).findByRole('button', { name: 'Hand over to Bob' }));
    expect(api.calls.some((c) => c.url.endsWith('/transfer'))).toBe(false);
    await userEvent.click(within(dialog).getByRole('button', { name: 'Yes, hand over' }));
    await waitFor(() => expect(api.calls.some((c) => c.url.endsWith('/projects/p/transfer'))).toBe(true));
    expect(api.calls.find((c) => c.url.endsWith('/transfer'))!.body).toEqual({ user_id: 'u2' });
  });

  it('shows a member the others, and lets them leave', async () => {
    const { dialog, onClose, location } = renderDialog('editor');
    await within(dialog).findByText('Bob');
    expect(within(dialog).queryByRole('textbox', { name: 'Email' })).not.toBeInTheDocument();
    expect(within(dialog).queryByRole('combobox')).not.toBeInTheDocument();

    await userEvent.click(within(dialog).getByRole('button', { name: 'Leave project' }));

    await waitFor(() => expect(onClose).toHaveBeenCalled());
    expect(api.calls.at(-2)).toEqual(
      expect.objectContaining({ method: 'DELETE', url: `/api/v1/projects/p/members/${USER.id}` }),
    );
    expect(location.history!.at(-1)).toBe('/tasks');
  });

  it('closes with Escape', async () => {
    const { onClose } = renderDialog();
    await userEvent.keyboard('{Escape}');
    expect(onClose).toHaveBeenCalled();
  });
});
