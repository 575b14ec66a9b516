// Display name.
import type { FormEvent } from 'react';
import { updateDisplayName } from '../api/account';
import { useAuth, useUser } from '../auth/AuthContext';
import { Field, FormError } from '../ui/Field';
import { useAsyncAction } from './useAsyncAction';

export function ProfileSection() {
  const user = useUser();
  const { setUser } = useAuth();
  const { busy, error, done, run } = useAsyncAction();

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const name = String(new FormData(event.currentTarget).get('display_name') ?? '').trim();
    void run(async () => setUser(await updateDisplayName(name)), 'Display name saved.');
  }

  return (
    <section className="card" aria-labelledby="profile-heading">
      <h2 id="profile-heading">Profile</h2>
      <p className="muted">Signed in as {user.email}</p>
      <form className="stack" onSubmit={submit}>
        <Field
          label="Display name"
          name="display_name"
          defaultValue={user.display_name}
          maxLength={100}
          autoComplete="nickname"
        />
        <FormError message={error} />
        <p aria-live="polite" className="success">
          {done ?? ''}
        </p>
        <button type="submit" className="button primary" disabled={busy}>
          Save name
        </button>
      </form>
    </section>
  );
}
