// API keys for scripts: create (the key is shown once), list, revoke.
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { createApiKey, listApiKeys, revokeApiKey } from '../api/account';
import type { ApiKey, ApiKeyCreated, ApiKeyScope } from '../api/types';
import { formatDate } from '../tasks/format';
import { Field, FormError } from '../ui/Field';
import { useAsyncAction } from './useAsyncAction';

const SCOPES: { value: ApiKeyScope; label: string }[] = [
  { value: 'tasks:read', label: 'Read tasks' },
  { value: 'tasks:write', label: 'Change tasks' },
  { value: 'account:read', label: 'Read account' },
  { value: 'webhooks:manage', label: 'Manage webhooks' },
];

function NewKey({ created, onDone }: { created: ApiKeyCreated; onDone(): void }) {
  const [copied, setCopied] = useState(false);
  return (
    <div className="new-key" role="group" aria-labelledby="new-key-heading">
      <h3 id="new-key-heading">Key “{created.name}” created</h3>
      <p>Copy it now: it will not be shown again.</p>
      <label htmlFor="new-key-value">API key</label>
      <div className="row">
        <input
          id="new-key-value"
          readOnly
          value={created.key}
          onFocus={(event) => event.target.select()}
          className="mono"
        />
        <button
          type="button"
          className="button"
          onClick={() => void navigator.clipboard?.writeText(created.key).then(() => setCopied(true))}
        >
          {copied ? 'Copied' : 'Copy'}
        </button>
      </div>
      <button type="button" className="button quiet" onClick={onDone}>
        Done
      </button>
    </div>
  );
}

export function ApiKeysSection() {
  const [keys, setKeys] = useState<ApiKey[] | null>(null);
  const [created, setCreated] = useState<ApiKeyCreated | null>(null);
  const { busy, error, done, run } = useAsyncAction();

  const refresh = useCallback(() => run(async () => setKeys(await listApiKeys())), [run]);
  useEffect(() => void refresh(), [refresh]);

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const data = new FormData(form);
    const scopes = data.getAll('scopes').map(String) as ApiKeyScope[];
    void run(async () => {
      const key = await createApiKey(String(data.get('name') ?? '').trim(), scopes);
      setCreated(key);
      form.reset();
      setKeys(await listApiKeys());
    });
  }

  function revoke(key: ApiKey) {
    void run(async () => {
      await revokeApiKey(key.id);
      setKeys(await listApiKeys());
    }, `Key “${key.name}” revoked.`);
  }

  return (
    <section className="card" aria-labelledby="keys-heading">
      <h2 id="keys-heading">API keys</h2>
      {created && <NewKey created={created} onDone={() => setCreated(null)} />}
      {keys && keys.length === 0 && <p className="muted">No API keys.</p>}
      {keys && keys.length > 0 && (
        <ul className="plain-list">
          {keys.map((key) => (
            <li key={key.id} className="api-key">
              <div>
                <strong>{key.name}</strong> <code>tw_{key.prefix}_…</code>
                <p className="muted">
                  {key.scopes.join(', ')} · created {formatDate(key.created_at)}
                  {key.last_used_at ? ` · last used ${formatDate(key.last_used_at)}` : ' · never used'}
                  {key.expires_at ? ` · expires ${formatDate(key.expires_at)}` : ''}
                </p>
              </div>
              <button
                type="button"
                className="button small danger"
                onClick={() => revoke(key)}
                disabled={busy}
                aria-label={`Revoke ${key.name}`}
              >
                Revoke
              </button>
            </li>
          ))}
        </ul>
      )}
      <form className="stack" onSubmit={submit}>
        <h3>New key</h3>
        <Field label="Key name" name="name" maxLength={100} required />
        <fieldset className="scopes">
          <legend>Scopes</legend>
          {SCOPES.map((scope) => (
            <label key={scope.value} className="check">
              <input type="checkbox" name="scopes" value={scope.value} defaultChecked={scope.value === 'tasks:read'} />{' '}
              {scope.label}
            </label>
          ))}
        </fieldset>
        <FormError message={error} />
        <p aria-live="polite" className="success">
          {done ?? ''}
        </p>
        <button type="submit" className="button primary" disabled={busy}>
          Create key
        </button>
      </form>
    </section>
  );
}
