// The webhooks section of settings against a faked API.
import { render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { setCsrfToken } from '../api/http';
import type { Webhook, WebhookDelivery } from '../api/types';
import { fakeApi, json } from '../test/fixtures';
import { WebhooksSection } from './WebhooksSection';

const ACTIVE: Webhook = {
  id: 'w1',
  url: 'https://a.example/hook',
  description: 'CI',
  event_types: ['*'],
  enabled: true,
  disabled_reason: null,
  failure_count: 0,
  previous_secret_expires_at: null,
  created_at: '2030-01-01T00:00:00Z',
  updated_at: '2030-01-01T00:00:00Z',
};
const BROKEN: Webhook = {
  ...ACTIVE,
  id: 'w2',
  url: 'https://b.example/hook',
  description: '',
  event_types: ['task.updated', 'task.deleted'],
  enabled: false,
  disabled_reason: 'Disabled after failing for 1 hour (last: HTTP 500).',
  failure_count: 20,
};

function delivery(id: string, changes: Partial<WebhookDelivery> = {}): WebhookDelivery {
  return {
    id,
    event_type: 'webhook.ping',
    state: 'delivered',
    attempt_count: 1,
    next_attempt_at: null,
    created_at: '2030-01-02T00:00:00Z',
    finished_at: '2030-01-02T00:00:01Z',
    attempts: [
      { number: 1, at: '2030-01-02T00:00:01Z', status_code: 204, duration_ms: 12, error: null, next_retry_at: null },
    ],
    ...changes,
  };
}

let webhooks: Webhook[];
let api: ReturnType<typeof fakeApi>;

function refused(detail: string) {
  return new Response(
    JSON.stringify({
      type: 'urn:taskwell:problem:webhook-target-refused',
      title: 'This webhook URL is not allowed',
      status: 422,
      detail,
      errors: [{ field: 'url', in: 'body', message: detail, code: 'private_address' }],
    }),
    { status: 422, headers: { 'Content-Type': 'application/problem+json' } },
  );
}

beforeEach(() => {
  setCsrfToken('csrf');
  webhooks = [ACTIVE, BROKEN];
  api = fakeApi([
    ['GET', /\/webhooks$/, () => json(200, { items: webhooks })],
    [
      'POST',
      /\/webhooks$/,
      (_, body) => {
        const { url, event_types, description } = body as Pick<Webhook, 'url' | 'event_types' | 'description'>;
        if (url.includes('127.0.0.1')) {
          return refused("The URL's host resolves to a loopback address; webhooks only reach public addresses.");
        }
        const webhook = { ...ACTIVE, id: 'w3', url, event_types, description };
        webhooks = [...webhooks, webhook];
        return json(201, { ...webhook, secret: 'whsec_first' });
      },
    ],
    [
      'PATCH',
      /\/webhooks\/(\w+)$/,
      (m, body) => {
        const { enabled } = body as { enabled: boolean };
        const changed = webhooks.find((w) => w.id === m[1])!;
        return json(200, {
          ...changed,
          enabled,
          disabled_reason: enabled ? null : 'Disabled by its owner.',
        });
      },
    ],
    ['DELETE', /\/webhooks\/(\w+)$/, () => json(204, null)],
    [
      'POST',
      /\/webhooks\/(\w+)\/rotate-secret$/,
      () => json(200, { ...ACTIVE, previous_secret_expires_at: '2030-01-03T00:00:00Z', secret: 'whsec_second' }),
    ],
    [
      'POST',
      /\/webhooks\/(\w+)\/test$/,
      () => json(202, { id: 'd9', event_type: 'webhook.ping', state: 'pending', created_at: '2030-01-02T00:00:00Z' }),
    ],
    ['GET', /\/webhooks\/w1\/deliveries\?limit=20$/, () => json(200, { items: [delivery('d1')], next_cursor: 'c2' })],
    [
      'GET',
      /\/webhooks\/w1\/deliveries\?limit=20&cursor=c2$/,
      () =>
        json(200, {
          items: [
            delivery('d0', {
              state: 'pending',
              attempt_count: 2,
              next_attempt_at: '2030-01-02T00:05:00Z',
              finished_at: null,
              attempts: [
                {
                  number: 2,
                  at: '2030-01-02T00:00:10Z',
                  status_code: 503,
                  duration_ms: 40,
                  error: null,
                  next_retry_at: '2030-01-02T00:05:00Z',
                },
                {
                  number: 1,
                  at: '2030-01-02T00:00:00Z',
                  status_code: null,
                  duration_ms: 5000,
                  error: 'timed out',
                  next_retry_at: null,
                },
              ],
            }),
          ],
          next_cursor: null,
        }),
    ],
  ]);
  vi.stubGlobal('fetch', vi.fn(api.fetch));
});

afterEach(() => {
  vi.unstubAllGlobals();
});

function item(url: string): HTMLElement {
  return screen.getByText(url).closest('li')!;
}

describe('WebhooksSection', () => {
  it('lists each webhook with its events, and why one is disabled', async () => {
    render(<WebhooksSection />);

    const active = within(await screen.findByRole('list', { name: 'Your webhooks' }));
    expect(active.getAllByRole('listitem')).toHaveLength(2);
    expect(within(item(ACTIVE.url)).getByText(/^All events/)).toBeInTheDocument();
    expect(within(item(ACTIVE.url)).getByRole('switch', { name: `Enabled (${ACTIVE.url})` })).toBeChecked();
    const broken = within(item(BROKEN.url));
    expect(broken.getByText('Disabled')).toBeInTheDocument();
    expect(broken.getByText(BROKEN.disabled_reason!)).toBeInTheDocument();
    expect(broken.getByText(/task\.updated, task\.deleted .* 20 failed attempts in a row/)).toBeInTheDocument();
    expect(broken.getByRole('button', { name: `Send test to ${BROKEN.url}` })).toBeDisabled();
  });

  it('shows the signing secret of a new webhook once', async () => {
    render(<WebhooksSection />);
    await screen.findByText(ACTIVE.url);

    await userEvent.type(screen.getByLabelText('Endpoint URL'), 'https://c.example/in');
    await userEvent.click(screen.getByRole('checkbox', { name: 'All events, including ones added later' }));
    await userEvent.click(screen.getByRole('checkbox', { name: 'comment.updated' }));
    await userEvent.type(screen.getByLabelText('Description (optional)'), 'Chat bot');
    await userEvent.click(screen.getByRole('button', { name: 'Add webhook' }));

    const secret = await screen.findByRole('textbox', { name: 'Signing secret' });
    expect(secret).toHaveValue('whsec_first');
    expect(secret).toHaveAccessibleDescription(/you won’t see it again/);
    expect(api.calls.find((c) => c.method === 'POST')!.body).toEqual({
      url: 'https://c.example/in',
      event_types: ['comment.updated'],
      description: 'Chat bot',
    });
    expect(within(item('https://c.example/in')).getByText(/^comment\.updated/)).toBeInTheDocument();
    expect(screen.getByLabelText('Endpoint URL')).toHaveValue('');

    await userEvent.click(screen.getByRole('button', { name: 'Done' }));
    expect(screen.queryByDisplayValue('whsec_first')).not.toBeInTheDocument();
    expect(screen.queryByText(/whsec_first/)).not.toBeInTheDocument();
  });

  it('shows a refused URL next to the field', async () => {
    render(<WebhooksSection />);
    await screen.findByText(ACTIVE.url);
    const url = screen.getByLabelText('Endpoint URL');

    await userEvent.type(url, 'https://127.0.0.1/hook');
    await userEvent.click(screen.getByRole('button', { name: 'Add webhook' }));

    const message = "The URL's host resolves to a loopback address; webhooks only reach public addresses.";
    expect(await screen.findByText(message)).toHaveAttribute('role', 'alert');
    await waitFor(() => expect(url).toHaveAttribute('aria-invalid', 'true'));
    expect(url).toHaveAccessibleDescription(expect.stringContaining(message));
    expect(screen.queryByRole('textbox', { name: 'Signing secret' })).not.toBeInTheDocument();
    expect(url).toHaveValue('https://127.0.0.1/hook');
  });

  it('asks for at least one event without asking the server', async () => {
    render(<WebhooksSection />);
    await screen.findByText(ACTIVE.url);

    await userEvent.type(screen.getByLabelText('Endpoint URL'), 'https://c.example/in');
    await userEvent.click(screen.getByRole('checkbox', { name: 'All events, including ones added later' }));
    await userEvent.click(screen.getByRole('button', { name: 'Add webhook' }));

    expect(await screen.findByText('Choose at least one event, or all of them.')).toBeInTheDocument();
    expect(screen.getByRole('group', { name: 'Events' })).toHaveAccessibleDescription(
      'Choose at least one event, or all of them.',
    );
    expect(api.calls.some((c) => c.method === 'POST')).toBe(false);
  });

  it('disables and enables a webhook with its switch', async () => {
    render(<WebhooksSection />);
    const toggle = await screen.findByRole('switch', { name: `Enabled (${ACTIVE.url})` });

    await userEvent.click(toggle);

    await waitFor(() => expect(toggle).not.toBeChecked());
    expect(api.calls.find((c) => c.method === 'PATCH')).toMatchObject({
      url: '/api/v1/webhooks/w1',
      body: { enabled: false },
    });
    expect(within(item(ACTIVE.url)).getByText('Disabled by its owner.')).toBeInTheDocument();
    expect(screen.getByText('Webhook disabled.')).toBeInTheDocument();
  });

  it('deletes a webhook only once confirmed', async () => {
    render(<WebhooksSection />);
    await userEvent.click(await screen.findByRole('button', { name: `Delete ${ACTIVE.url}` }));
    const confirm = screen.getByRole('group', { name: 'Delete this webhook and its delivery log?' });
    expect(within(confirm).getByRole('button', { name: 'Cancel' })).toHaveFocus();

    await userEvent.click(within(confirm).getByRole('button', { name: 'Cancel' }));
    expect(screen.getByRole('button', { name: `Delete ${ACTIVE.url}` })).toHaveFocus();
    expect(api.calls.some((c) => c.method === 'DELETE')).toBe(false);

    await userEvent.click(screen.getByRole('button', { name: `Delete ${ACTIVE.url}` }));
    await userEvent.click(screen.getByRole('button', { name: 'Yes, delete' }));

    await waitFor(() => expect(screen.queryByText(ACTIVE.url)).not.toBeInTheDocument());
    expect(api.calls.find((c) => c.method === 'DELETE')!.url).toBe('/api/v1/webhooks/w1');
    expect(screen.getByText('Webhook deleted.')).toBeInTheDocument();
    expect(screen.getByRole('heading', { name: 'Webhooks' })).toHaveFocus();
  });

  it('rotates the secret once confirmed and shows the new one once', async () => {
    render(<WebhooksSection />);
    await userEvent.click(await screen.findByRole('button', { name: `Rotate secret of ${ACTIVE.url}` }));
    await userEvent.click(screen.getByRole('button', { name: 'Yes, rotate' }));

    expect(await screen.findByRole('textbox', { name: 'Signing secret' })).toHaveValue('whsec_second');
    expect(within(item(ACTIVE.url)).getByText(/previous secret also signs until/)).toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: 'Done' }));
    expect(screen.queryByDisplayValue('whsec_second')).not.toBeInTheDocument();
  });

  it('pages through the delivery log with the cursor', async () => {
    render(<WebhooksSection />);
    const expand = await screen.findByRole('button', { name: `Deliveries to ${ACTIVE.url}` });
    expect(expand).toHaveAttribute('aria-expanded', 'false');

    await userEvent.click(expand);

    expect(expand).toHaveAttribute('aria-expanded', 'true');
    const table = await screen.findByRole('table', { name: `Deliveries to ${ACTIVE.url}` });
    expect(within(table).getAllByRole('row')).toHaveLength(2);
    expect(within(table).getByRole('cell', { name: '204' })).toBeInTheDocument();

    await userEvent.click(screen.getByRole('button', { name: 'Load more deliveries' }));

    await waitFor(() => expect(within(table).getAllByRole('row')).toHaveLength(3));
    const pending = within(table).getAllByRole('row')[2]!;
    expect(within(pending).getByRole('cell', { name: 'Pending' })).toBeInTheDocument();
    expect(within(pending).getByRole('cell', { name: '2' })).toBeInTheDocument();
    expect(within(pending).getByRole('cell', { name: '503' })).toBeInTheDocument();
    expect(pending.querySelector('time[datetime="2030-01-02T00:05:00Z"]')).not.toBeNull();
    expect(screen.queryByRole('button', { name: 'Load more deliveries' })).not.toBeInTheDocument();
    expect(api.calls.filter((c) => c.url.includes('/deliveries')).map((c) => c.url)).toEqual([
      '/api/v1/webhooks/w1/deliveries?limit=20',
      '/api/v1/webhooks/w1/deliveries?limit=20&cursor=c2',
    ]);
  });

  it('sends a test and opens the delivery log', async () => {
    render(<WebhooksSection />);
    await userEvent.click(await screen.findByRole('button', { name: `Send test to ${ACTIVE.url}` }));

    expect(await screen.findByText('Test ping queued: follow it in the delivery log.')).toBeInTheDocument();
    expect(api.calls.some((c) => c.method === 'POST' && c.url === '/api/v1/webhooks/w1/test')).toBe(true);
    expect(await screen.findByRole('table', { name: `Deliveries to ${ACTIVE.url}` })).toBeInTheDocument();
  });
});
