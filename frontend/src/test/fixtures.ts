/** Shared test data: a signed-in user as the API returns it, and JSON responses. */
export const USER = {
  id: 'u1',
  email: 'ada@example.com',
  display_name: 'Ada',
  is_active: true,
  is_admin: false,
  created_at: '',
  updated_at: '',
  avatar: null,
};

export function json(status: number, body: unknown): Response {
  return new Response(status === 204 ? null : JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json' },
  });
}
