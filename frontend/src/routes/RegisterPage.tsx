// Create an account, then sign straight in.
import { useState, type FormEvent } from 'react';
import { Link } from 'wouter';
import { register } from '../api/account';
import { messageOf } from '../api/http';
import { useAuth } from '../auth/AuthContext';
import { PageHeading } from '../ui/PageHeading';
import { Field, FormError } from '../ui/Field';

export default function RegisterPage() {
  const auth = useAuth();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const email = String(form.get('email') ?? '');
    const password = String(form.get('password') ?? '');
    setBusy(true);
    setError(null);
    try {
      await register(email, password, String(form.get('display_name') ?? ''));
      await auth.logIn({ email, password });
    } catch (failure) {
      setError(messageOf(failure));
      setBusy(false);
    }
  }

  return (
    <main id="main" className="page narrow auth-page">
      <p className="brand" aria-hidden="true">
        Taskwell
      </p>
      <PageHeading title="Create an account">Create an account</PageHeading>
      <form onSubmit={submit} className="stack" noValidate>
        <Field label="Email" name="email" type="email" autoComplete="email" required />
        <Field label="Display name" name="display_name" autoComplete="nickname" maxLength={100} />
        <Field
          label="Password"
          name="password"
          type="password"
          autoComplete="new-password"
          minLength={12}
          maxLength={128}
          hint="At least 12 characters. A few unrelated words make a strong password."
          required
        />
        <FormError message={error} />
        <button type="submit" className="button primary" disabled={busy}>
          Create account
        </button>
      </form>
      <p>
        Already have an account? <Link href="/login">Log in</Link>
      </p>
    </main>
  );
}
