// Webhook endpoints: register, list, change, delete, rotate the secret, test, the delivery log.
import { request } from './http';
import type {
  Items,
  Webhook,
  WebhookChanges,
  WebhookCreateBody,
  WebhookCreated,
  WebhookDeliveryPage,
  WebhookTestQueued,
} from './types';

function webhookPath(id: string): string {
  return `/webhooks/${encodeURIComponent(id)}`;
}

/** All of the caller's webhooks, oldest first. */
export async function listWebhooks(): Promise<Webhook[]> {
  return (await request<Items<Webhook>>('GET', '/webhooks')).data.items;
}

/** The answer carries the signing secret: the only time it is shown. */
export async function createWebhook(body: WebhookCreateBody): Promise<WebhookCreated> {
  return (await request<WebhookCreated>('POST', '/webhooks', { json: body })).data;
}

export async function updateWebhook(id: string, changes: WebhookChanges): Promise<Webhook> {
  return (await request<Webhook>('PATCH', webhookPath(id), { json: changes })).data;
}

export async function deleteWebhook(id: string): Promise<void> {
  await request<void>('DELETE', webhookPath(id));
}

/** A new signing secret, shown only in this answer; the old one keeps signing for a while. */
export async function rotateWebhookSecret(id: string): Promise<WebhookCreated> {
  return (await request<WebhookCreated>('POST', `${webhookPath(id)}/rotate-secret`)).data;
}

/** Queue a `webhook.ping` delivery. */
export async function sendWebhookTest(id: string): Promise<WebhookTestQueued> {
  return (await request<WebhookTestQueued>('POST', `${webhookPath(id)}/test`)).data;
}

/** One page of the delivery log, newest first; pass the last page's `next_cursor` for more. */
export async function listWebhookDeliveries(
  id: string,
  cursor: string | null = null,
  limit = 20,
): Promise<WebhookDeliveryPage> {
  const query = new URLSearchParams({ limit: String(limit) });
  if (cursor) query.set('cursor', cursor);
  return (await request<WebhookDeliveryPage>('GET', `${webhookPath(id)}/deliveries?${query}`)).data;
}
