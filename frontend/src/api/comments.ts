// The comment endpoints of a task (docs/api.md "Comments"); only the author edits or deletes.
import { request } from './http';
import type { Comment, CommentPage } from './types';

const path = (taskId: string) => `/tasks/${encodeURIComponent(taskId)}/comments`;

export async function listComments(taskId: string, cursor: string | null = null): Promise<CommentPage> {
  const query = cursor ? `?cursor=${encodeURIComponent(cursor)}` : '';
  return (await request<CommentPage>('GET', `${path(taskId)}${query}`)).data;
}

export async function createComment(taskId: string, body: string): Promise<Comment> {
  return (await request<Comment>('POST', path(taskId), { json: { body } })).data;
}

export async function patchComment(taskId: string, commentId: string, body: string): Promise<Comment> {
  return (await request<Comment>('PATCH', `${path(taskId)}/${encodeURIComponent(commentId)}`, { json: { body } })).data;
}

export async function deleteComment(taskId: string, commentId: string): Promise<void> {
  await request<void>('DELETE', `${path(taskId)}/${encodeURIComponent(commentId)}`);
}
