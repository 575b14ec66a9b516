// One webhook in settings: what it sends where, on/off, test, rotate the secret, delete, its log.
import { useEffect, useId, useRef, useState } from 'react';
import { deleteWebhook, rotateWebhookSecret, sendWebhookTest, updateWebhook } from '../api/webhooks';
import type { Webhook } from '../api/types';
import { formatDateTime } from '../tasks/format';
import { FormError } from '../ui/Field';
import { useAsyncAction } from './useAsyncAction';
import { WebhookDeliveryLog } from './WebhookDeliveryLog';
import { WebhookSecret } from './WebhookSecret';

export function describeEvents(eventTypes: string[]): string {
  return eventTypes.includes('*') ? 'All events' : eventTypes.join(', ');
}

interface ConfirmButtonProps {
  label: string;
  /** The accessible name of the first button, naming what it acts on. */
  name: string;
  question: string;
  confirm: string;
  danger?: boolean;
  disabled: boolean;
  onConfirm(): void;
}

/** A button that asks "are you sure?" in place; focus goes to "Cancel", then back. */
function ConfirmButton({ label, name, question, confirm, danger, disabled, onConfirm }: ConfirmButtonProps) {
  const [asking, setAsking] = useState(false);
  const trigger = useRef<HTMLButtonElement>(null);
  const wasAsking = useRef(false);
  useEffect(() => {
    if (wasAsking.current && !asking) trigger.current?.focus();
    wasAsking.current = asking;
  }, [asking]);

  if (!asking) {
    return (
      <button
        ref={trigger}
        type="button"
        className={`button small${danger ? ' danger' : ''}`}
        onClick={() => setAsking(true)}
        disabled={disabled}
        aria-label={name}
      >
        {label}
      </button>
    );
  }
  return (
    <span className="row wrap" role="group" aria-label={question}>
      <span>{question}</span>
      <button
        type="button"
        className={`button small${danger ? ' danger' : ' primary'}`}
        onClick={() => {
          setAsking(false);
          onConfirm();
        }}
        disabled={disabled}
      >
        {confirm}
      </button>
      <button type="button" className="button small" onClick={() => setAsking(false)} autoFocus>
        Cancel
      </button>
    </span>
  );
}

interface WebhookItemProps {
  webhook: Webhook;
  onChanged(webhook: Webhook): void;
  onDeleted(id: string): void;
}

export function WebhookItem({ webhook, onChanged, onDeleted }: WebhookItemProps) {
  const [secret, setSecret] = useState<string | null>(null);
  const [logOpen, setLogOpen] = useState(false);
  const [logVersion, setLogVersion] = useState(0);
  const { busy, error, done, run } = useAsyncAction();
  const logId = useId();
  const url = webhook.url;

  function setEnabled(enabled: boolean) {
    void run(
      async () => onChanged(await updateWebhook(webhook.id, { enabled })),
      enabled ? 'Webhook enabled.' : 'Webhook disabled.',
    );
  }

  function sendTest() {
    void run(async () => {
      await sendWebhookTest(webhook.id);
      setLogOpen(true);
      setLogVersion((v) => v + 1);
    }, 'Test ping queued: follow it in the delivery log.');
  }

  function rotate() {
    void run(async () => {
      const { secret: fresh, ...endpoint } = await rotateWebhookSecret(webhook.id);
      setSecret(fresh);
      onChanged(endpoint);
    }, 'Secret rotated.');
  }

  function remove() {
    void run(async () => {
      await deleteWebhook(webhook.id);
      onDeleted(webhook.id);
    });
  }

  return (
    <li className="webhook stack">
      <div>
        <strong className="mono">{url}</strong>
        {webhook.enabled ? <span className="badge">Enabled</span> : <span className="badge pending">Disabled</span>}
        {webhook.description && <p>{webhook.description}</p>}
        <p className="muted">
          {describeEvents(webhook.event_types)} · created {formatDateTime(webhook.created_at)}
          {webhook.failure_count > 0 ? ` · ${webhook.failure_count} failed attempts in a row` : ''}
        </p>
        {!webhook.enabled && webhook.disabled_reason && <p className="note">{webhook.disabled_reason}</p>}
        {webhook.previous_secret_expires_at && (
          <p className="muted">
            The previous secret also signs until {formatDateTime(webhook.previous_secret_expires_at)}.
          </p>
        )}
      </div>
      {secret && <WebhookSecret heading="New signing secret" secret={secret} onDone={() => setSecret(null)} />}
      <div className="row wrap">
        <label className="check">
          <input
            type="checkbox"
            role="switch"
            checked={webhook.enabled}
            onChange={(event) => setEnabled(event.target.checked)}
            disabled={busy}
            aria-label={`Enabled (${url})`}
          />{' '}
          Enabled
        </label>
        <button
          type="button"
          className="button small"
          onClick={sendTest}
          disabled={busy || !webhook.enabled}
          aria-label={`Send test to ${url}`}
        >
          Send test
        </button>
        <ConfirmButton
          label="Rotate secret"
          name={`Rotate secret of ${url}`}
          question="Make a new signing secret? The old one keeps signing for a while."
          confirm="Yes, rotate"
          disabled={busy}
          onConfirm={rotate}
        />
        <ConfirmButton
          label="Delete"
          name={`Delete ${url}`}
          question="Delete this webhook and its delivery log?"
          confirm="Yes, delete"
          danger
          disabled={busy}
          onConfirm={remove}
        />
        <button
          type="button"
          className="button small quiet"
          aria-expanded={logOpen}
          aria-controls={logOpen ? logId : undefined}
          onClick={() => setLogOpen((open) => !open)}
          aria-label={`Deliveries to ${url}`}
        >
          Deliveries
        </button>
      </div>
      <FormError message={error} />
      <p aria-live="polite" className="success">
        {done ?? ''}
      </p>
      {logOpen && <WebhookDeliveryLog id={logId} webhookId={webhook.id} url={url} version={logVersion} />}
    </li>
  );
}
