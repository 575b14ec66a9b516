// One webhook's delivery log, newest first, a page at a time ("Load more" follows the cursor).
import { useCallback, useEffect, useState } from 'react';
import { listWebhookDeliveries } from '../api/webhooks';
import type { WebhookAttempt, WebhookDelivery, WebhookDeliveryState } from '../api/types';
import { formatDateTime } from '../tasks/format';
import { FormError } from '../ui/Field';
import { useAsyncAction } from './useAsyncAction';

const STATE_LABELS: Record<WebhookDeliveryState, string> = {
  pending: 'Pending',
  delivered: 'Delivered',
  failed: 'Failed',
};

function lastAttempt(delivery: WebhookDelivery): WebhookAttempt | null {
  return delivery.attempts.reduce<WebhookAttempt | null>(
    (last, attempt) => (last === null || attempt.number > last.number ? attempt : last),
    null,
  );
}

function DeliveryRow({ delivery }: { delivery: WebhookDelivery }) {
  const last = lastAttempt(delivery);
  const nextRetry = delivery.state === 'pending' ? (delivery.next_attempt_at ?? last?.next_retry_at ?? null) : null;
  return (
    <tr>
      <td>
        <time dateTime={delivery.created_at}>{formatDateTime(delivery.created_at)}</time>
      </td>
      <td className="mono">{delivery.event_type}</td>
      <td>{STATE_LABELS[delivery.state]}</td>
      <td>{delivery.attempt_count}</td>
      <td>
        {last?.status_code ?? '—'}
        {last?.error ? <span className="muted"> {last.error}</span> : null}
      </td>
      <td>{nextRetry ? <time dateTime={nextRetry}>{formatDateTime(nextRetry)}</time> : '—'}</td>
    </tr>
  );
}

interface DeliveryLogProps {
  id: string;
  webhookId: string;
  url: string;
  /** Bumped to read the first page again (e.g. after a test was queued). */
  version: number;
}

export function WebhookDeliveryLog({ id, webhookId, url, version }: DeliveryLogProps) {
  const [deliveries, setDeliveries] = useState<WebhookDelivery[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const { busy, error, run } = useAsyncAction();

  const reload = useCallback(
    () =>
      run(async () => {
        const page = await listWebhookDeliveries(webhookId);
        setDeliveries(page.items);
        setCursor(page.next_cursor);
      }),
    [run, webhookId],
  );
  useEffect(() => void reload(), [reload, version]);

  function loadMore() {
    if (!cursor) return;
    void run(async () => {
      const page = await listWebhookDeliveries(webhookId, cursor);
      // A delivery made since the first page can shift the pages: keep each one once.
      setDeliveries((shown) => {
        const seen = new Set((shown ?? []).map((d) => d.id));
        return [...(shown ?? []), ...page.items.filter((d) => !seen.has(d.id))];
      });
      setCursor(page.next_cursor);
    });
  }

  return (
    <div id={id} className="stack delivery-log">
      {deliveries === null && busy && <p className="loading">Loading deliveries…</p>}
      {deliveries && deliveries.length === 0 && <p className="muted">No deliveries yet.</p>}
      {deliveries && deliveries.length > 0 && (
        <table className="deliveries">
          <caption className="visually-hidden">Deliveries to {url}</caption>
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Event</th>
              <th scope="col">State</th>
              <th scope="col">Attempts</th>
              <th scope="col">Status code</th>
              <th scope="col">Next retry</th>
            </tr>
          </thead>
          <tbody>
            {deliveries.map((delivery) => (
              <DeliveryRow key={delivery.id} delivery={delivery} />
            ))}
          </tbody>
        </table>
      )}
      <FormError message={error} />
      <div className="row wrap">
        {cursor && (
          <button type="button" className="button small" onClick={loadMore} disabled={busy}>
            Load more deliveries
          </button>
        )}
        <button type="button" className="button small quiet" onClick={() => void reload()} disabled={busy}>
          Refresh deliveries
        </button>
      </div>
    </div>
  );
}
