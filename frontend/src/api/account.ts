// Account endpoints: sign-in, profile, password, sessions, API keys, avatar.
import { request, setCsrfToken } from './http';
import type { ApiKey, ApiKeyCreated, ApiKeyScope, Avatar, SessionInfo, User } from './types';

interface BrowserSession {
  csrf_token: string;
  expires_in: number;
}

export interface Credentials {
  email: string;
  password: string;
  otp?: string;
}

export async function logIn(credentials: Credentials): Promise<void> {
  const { data } = await request<BrowserSession>('POST', '/auth/cookie/login', {
    json: credentials,
    session: false,
  });
  setCsrfToken(data.csrf_token);
}

export async function register(email: string, password: string, displayName: string): Promise<void> {
  await request<User>('POST', '/auth/register', {
    json: { email, password, display_name: displayName },
    session: false,
  });
}

export async function logOut(): Promise<void> {
  await request<void>('POST', '/auth/cookie/logout');
  setCsrfToken(null);
}

export async function fetchMe(): Promise<User> {
  return (await request<User>('GET', '/users/me')).data;
}

export async function updateDisplayName(displayName: string): Promise<User> {
  return (await request<User>('PATCH', '/users/me', { json: { display_name: displayName } })).data;
}

export async function changePassword(currentPassword: string, newPassword: string): Promise<void> {
  await request<void>('POST', '/users/me/password', {
    json: { current_password: currentPassword, new_password: newPassword },
  });
}

export async function listSessions(): Promise<SessionInfo[]> {
  return (await request<SessionInfo[]>('GET', '/auth/sessions')).data;
}

export async function endSession(id: string): Promise<void> {
  await request<void>('DELETE', `/auth/sessions/${encodeURIComponent(id)}`);
}

export async function listApiKeys(): Promise<ApiKey[]> {
  return (await request<ApiKey[]>('GET', '/api-keys')).data;
}

export async function createApiKey(name: string, scopes: ApiKeyScope[]): Promise<ApiKeyCreated> {
  return (await request<ApiKeyCreated>('POST', '/api-keys', { json: { name, scopes } })).data;
}

export async function revokeApiKey(id: string): Promise<void> {
  await request<void>('DELETE', `/api-keys/${encodeURIComponent(id)}`);
}

export async function uploadAvatar(file: Blob): Promise<Avatar> {
  const { data } = await request<{ avatar: Avatar }>('PUT', '/users/me/avatar', {
    body: file,
    headers: { 'Content-Type': file.type },
  });
  return data.avatar;
}

export async function removeAvatar(): Promise<void> {
  await request<void>('DELETE', '/users/me/avatar');
}
