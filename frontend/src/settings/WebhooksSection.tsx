// Webhooks: register an endpoint (its signing secret is shown once), list them, manage each one.
import { useCallback, useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { ApiError, messageOf } from '../api/http';
import { createWebhook, listWebhooks } from '../api/webhooks';
import type { Webhook, WebhookCreated, WebhookEventType } from '../api/types';
import { FormError } from '../ui/Field';
import { useAsyncAction } from './useAsyncAction';
import { WebhookItem } from './WebhookItem';
import { WebhookSecret } from './WebhookSecret';

const EVENT_TYPES: WebhookEventType[] = [
  'task.updated',
  'task.deleted',
  'project.updated',
  'project.deleted',
  'section.updated',
  'section.deleted',
  'comment.updated',
  'comment.deleted',
  'label.updated',
  'label.deleted',
  'reminder.due',
];

type FormField = 'url' | 'event_types' | 'description';
type FieldErrors = Partial<Record<FormField, string>>;
const FORM_FIELDS: readonly string[] = ['url', 'event_types', 'description'];

/** The problem's messages for this form's fields ("event_types.0" counts as event_types), and
 * what belongs to none of them, for the form as a whole. */
function errorsOf(failure: unknown): { fields: FieldErrors; rest: string | null } {
  const fields: FieldErrors = {};
  if (failure instanceof ApiError) {
    for (const item of failure.problem.errors ?? []) {
      const name = item.field.split('.')[0] ?? '';
      if (FORM_FIELDS.includes(name)) fields[name as FormField] ??= item.message;
    }
  }
  return Object.keys(fields).length > 0 ? { fields, rest: null } : { fields, rest: messageOf(failure) };
}

function describedBy(...ids: (string | false)[]): string | undefined {
  return ids.filter(Boolean).join(' ') || undefined;
}

function NewWebhookForm({ onCreated }: { onCreated(created: WebhookCreated): void }) {
  const id = useId();
  const [url, setUrl] = useState('');
  const [description, setDescription] = useState('');
  const [allEvents, setAllEvents] = useState(true);
  const [chosen, setChosen] = useState<ReadonlySet<string>>(new Set());
  const [errors, setErrors] = useState<FieldErrors>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  function toggle(type: string, on: boolean) {
    setChosen((current) => {
      const next = new Set(current);
      if (on) next.add(type);
      else next.delete(type);
      return next;
    });
  }

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const eventTypes = allEvents ? ['*'] : EVENT_TYPES.filter((type) => chosen.has(type));
    setFormError(null);
    if (eventTypes.length === 0) {
      setErrors({ event_types: 'Choose at least one event, or all of them.' });
      return;
    }
    setErrors({});
    setBusy(true);
    try {
      onCreated(await createWebhook({ url: url.trim(), event_types: eventTypes, description: description.trim() }));
      setUrl('');
      setDescription('');
      setAllEvents(true);
      setChosen(new Set());
    } catch (failure) {
      const { fields, rest } = errorsOf(failure);
      setErrors(fields);
      setFormError(rest);
    } finally {
      setBusy(false);
    }
  }

  const error = (field: FormField) =>
    errors[field] ? (
      <p id={`${id}-${field}-error`} className="form-error" role="alert">
        {errors[field]}
      </p>
    ) : null;

  return (
    <form className="stack" onSubmit={(event) => void submit(event)} aria-labelledby={`${id}-heading`}>
      <h3 id={`${id}-heading`}>New webhook</h3>
      <div className="field">
        <label htmlFor={`${id}-url`}>Endpoint URL</label>
        <input
          id={`${id}-url`}
          // Text, not url: the app styles text inputs, and the server's check is the one that counts.
          type="text"
          inputMode="url"
          spellCheck={false}
          autoCapitalize="off"
          required
          maxLength={2048}
          autoComplete="url"
          placeholder="https://example.com/hooks/taskwell"
          value={url}
          onChange={(event) => setUrl(event.target.value)}
          aria-invalid={errors.url ? true : undefined}
          aria-describedby={describedBy(`${id}-url-hint`, !!errors.url && `${id}-url-error`)}
        />
        <p id={`${id}-url-hint`} className="hint">
          https:// only, and it must reach a public address.
        </p>
        {error('url')}
      </div>
      <fieldset
        className="scopes"
        aria-invalid={errors.event_types ? true : undefined}
        aria-describedby={describedBy(!!errors.event_types && `${id}-event_types-error`)}
      >
        <legend>Events</legend>
        <label className="check">
          <input type="checkbox" checked={allEvents} onChange={(event) => setAllEvents(event.target.checked)} /> All
          events, including ones added later
        </label>
        {EVENT_TYPES.map((type) => (
          <label key={type} className="check">
            <input
              type="checkbox"
              value={type}
              checked={allEvents || chosen.has(type)}
              disabled={allEvents}
              onChange={(event) => toggle(type, event.target.checked)}
            />{' '}
            <span className="mono">{type}</span>
          </label>
        ))}
        {error('event_types')}
      </fieldset>
      <div className="field">
        <label htmlFor={`${id}-description`}>Description (optional)</label>
        <input
          id={`${id}-description`}
          maxLength={200}
          value={description}
          onChange={(event) => setDescription(event.target.value)}
          aria-invalid={errors.description ? true : undefined}
          aria-describedby={describedBy(!!errors.description && `${id}-description-error`)}
        />
        {error('description')}
      </div>
      <FormError message={formError} />
      <button type="submit" className="button primary" disabled={busy}>
        Add webhook
      </button>
    </form>
  );
}

export function WebhooksSection() {
  const [webhooks, setWebhooks] = useState<Webhook[] | null>(null);
  const [created, setCreated] = useState<WebhookCreated | null>(null);
  const [notice, setNotice] = useState('');
  const heading = useRef<HTMLHeadingElement>(null);
  const { busy, error, run } = useAsyncAction();

  const refresh = useCallback(() => run(async () => setWebhooks(await listWebhooks())), [run]);
  useEffect(() => void refresh(), [refresh]);

  function added(answer: WebhookCreated) {
    const { secret, ...webhook } = answer;
    setCreated({ ...webhook, secret });
    setWebhooks((current) => [...(current ?? []).filter((w) => w.id !== webhook.id), webhook]);
    setNotice('Webhook added.');
  }

  function changed(webhook: Webhook) {
    setWebhooks((current) => (current ?? []).map((w) => (w.id === webhook.id ? webhook : w)));
  }

  function deleted(id: string) {
    setWebhooks((current) => (current ?? []).filter((w) => w.id !== id));
    if (created?.id === id) setCreated(null);
    setNotice('Webhook deleted.');
    // Its row, and the button that was focused, are gone: start again from the section.
    heading.current?.focus();
  }

  return (
    <section className="card" aria-labelledby="webhooks-heading">
      <h2 id="webhooks-heading" ref={heading} tabIndex={-1}>
        Webhooks
      </h2>
      <p className="muted">Taskwell sends a signed POST to your endpoint when something you can see changes.</p>
      {created && (
        <WebhookSecret
          heading={`Webhook for ${created.url} added`}
          secret={created.secret}
          onDone={() => setCreated(null)}
        />
      )}
      {webhooks === null && busy && <p className="loading">Loading webhooks…</p>}
      {webhooks && webhooks.length === 0 && <p className="muted">No webhooks.</p>}
      {webhooks && webhooks.length > 0 && (
        <ul className="plain-list" aria-label="Your webhooks">
          {webhooks.map((webhook) => (
            <WebhookItem key={webhook.id} webhook={webhook} onChanged={changed} onDeleted={deleted} />
          ))}
        </ul>
      )}
      <FormError message={error} />
      <p aria-live="polite" className="success">
        {notice}
      </p>
      <NewWebhookForm onCreated={added} />
    </section>
  );
}
