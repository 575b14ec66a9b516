// Password change (ends the other sessions, as the server does).
import type { FormEvent } from 'react';
import { changePassword } from '../api/account';
import { Field, FormError } from '../ui/Field';
import { useAsyncAction } from './useAsyncAction';

export function PasswordSection({ onChanged }: { onChanged(): void }) {
  const { busy, error, done, run } = useAsyncAction();

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const data = new FormData(form);
    void run(async () => {
      await changePassword(String(data.get('current_password') ?? ''), String(data.get('new_password') ?? ''));
      form.reset();
      onChanged();
    }, 'Password changed. Your other devices were logged out.');
  }

  return (
    <section className="card" aria-labelledby="password-heading">
      <h2 id="password-heading">Password</h2>
      <form className="stack" onSubmit={submit} noValidate>
        <Field
          label="Current password"
          name="current_password"
          type="password"
          autoComplete="current-password"
          required
        />
        <Field
          label="New password"
          name="new_password"
          type="password"
          autoComplete="new-password"
          hint="At least 12 characters."
          required
        />
        <FormError message={error} />
        <p aria-live="polite" className="success">
          {done ?? ''}
        </p>
        <button type="submit" className="button primary" disabled={busy}>
          Change password
        </button>
      </form>
    </section>
  );
}
