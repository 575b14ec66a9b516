// The project endpoints: projects, their sections, members and ownership (docs/api.md "Projects").
import { ifMatch, request } from './http';
import type { Items, Member, Project, ProjectChanges, Role, Section } from './types';

const path = (id: string) => `/projects/${encodeURIComponent(id)}`;

export async function listProjects(archived = false): Promise<Project[]> {
  return (await request<Items<Project>>('GET', `/projects?archived=${archived}`)).data.items;
}

export async function createProject(name: string, color: string | null): Promise<Project> {
  return (await request<Project>('POST', '/projects', { json: { name, color } })).data;
}

export async function patchProject(id: string, changes: ProjectChanges): Promise<Project> {
  return (await request<Project>('PATCH', path(id), { json: changes })).data;
}

export async function deleteProject(id: string): Promise<void> {
  await request<void>('DELETE', path(id));
}

export async function listSections(projectId: string): Promise<Section[]> {
  return (await request<Items<Section>>('GET', `${path(projectId)}/sections`)).data.items;
}

export async function createSection(projectId: string, name: string): Promise<Section> {
  return (await request<Section>('POST', `${path(projectId)}/sections`, { json: { name } })).data;
}

/** `version`: the one the change was made against (412 if it moved on); null for any. */
export async function patchSection(
  projectId: string,
  sectionId: string,
  changes: { name?: string; position?: number },
  version: number | null = null,
): Promise<Section> {
  const url = `${path(projectId)}/sections/${encodeURIComponent(sectionId)}`;
  return (await request<Section>('PATCH', url, { json: changes, headers: ifMatch(version) })).data;
}

export async function deleteSection(projectId: string, sectionId: string): Promise<void> {
  await request<void>('DELETE', `${path(projectId)}/sections/${encodeURIComponent(sectionId)}`);
}

export async function listMembers(projectId: string): Promise<Member[]> {
  return (await request<Items<Member>>('GET', `${path(projectId)}/members`)).data.items;
}

export async function addMember(projectId: string, email: string, role: Exclude<Role, 'owner'>): Promise<Member> {
  return (await request<Member>('POST', `${path(projectId)}/members`, { json: { email, role } })).data;
}

export async function changeMemberRole(projectId: string, userId: string, role: Exclude<Role, 'owner'>): Promise<void> {
  await request<unknown>('PATCH', `${path(projectId)}/members/${encodeURIComponent(userId)}`, { json: { role } });
}

/** The owner removes someone, or a member removes themself (leaves). */
export async function removeMember(projectId: string, userId: string): Promise<void> {
  await request<void>('DELETE', `${path(projectId)}/members/${encodeURIComponent(userId)}`);
}

export async function transferProject(projectId: string, userId: string): Promise<Project> {
  return (await request<Project>('POST', `${path(projectId)}/transfer`, { json: { user_id: userId } })).data;
}
