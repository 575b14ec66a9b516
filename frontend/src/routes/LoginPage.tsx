// Log in (cookie session). Asks for a second-factor code when the account has one.
import { useState, type FormEvent } from 'react';
import { Link } from 'wouter';
import { ApiError, messageOf } from '../api/http';
import { useAuth } from '../auth/AuthContext';
import { PageHeading } from '../ui/PageHeading';
import { Field, FormError } from '../ui/Field';

export default function LoginPage() {
  const auth = useAuth();
  const [needsCode, setNeedsCode] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const otp = String(form.get('otp') ?? '').trim();
    setBusy(true);
    setError(null);
    try {
      await auth.logIn({
        email: String(form.get('email') ?? ''),
        password: String(form.get('password') ?? ''),
        ...(otp ? { otp } : {}),
      });
    } catch (failure) {
      if (failure instanceof ApiError && failure.slug === 'otp-required') setNeedsCode(true);
      setError(messageOf(failure));
      setBusy(false);
    }
  }

  return (
    <main id="main" className="page narrow auth-page">
      <p className="brand" aria-hidden="true">
        Taskwell
      </p>
      <PageHeading title="Log in">Log in</PageHeading>
      <form onSubmit={submit} className="stack" noValidate>
        <Field label="Email" name="email" type="email" autoComplete="username" required />
        <Field label="Password" name="password" type="password" autoComplete="current-password" required />
        {needsCode && (
          <Field
            label="Authentication code"
            name="otp"
            inputMode="numeric"
            autoComplete="one-time-code"
            hint="The 6-digit code from your authenticator app, or a recovery code."
            required
          />
        )}
        <FormError message={error} />
        <button type="submit" className="button primary" disabled={busy}>
          Log in
        </button>
      </form>
      <p>
        New here? <Link href="/register">Create an account</Link>
      </p>
    </main>
  );
}
