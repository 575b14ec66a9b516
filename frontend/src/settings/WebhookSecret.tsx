// A webhook's signing secret, shown once (after creating it or rotating it) with a copy button.
import { useId, useState } from 'react';

interface WebhookSecretProps {
  heading: string;
  secret: string;
  onDone(): void;
}

export function WebhookSecret({ heading, secret, onDone }: WebhookSecretProps) {
  const [copied, setCopied] = useState(false);
  const id = useId();
  return (
    <div className="new-key" role="group" aria-labelledby={`${id}-heading`}>
      <h3 id={`${id}-heading`}>{heading}</h3>
      <p id={`${id}-note`}>
        <strong>Copy it now: you won’t see it again.</strong> Your receiver needs it to check the webhook-signature
        header of each delivery.
      </p>
      <label htmlFor={`${id}-value`}>Signing secret</label>
      <div className="row">
        <input
          id={`${id}-value`}
          readOnly
          value={secret}
          aria-describedby={`${id}-note`}
          // Shown after an action the person just took: the secret is what they need next.
          autoFocus
          onFocus={(event) => event.target.select()}
          className="mono"
        />
        <button
          type="button"
          className="button"
          onClick={() => void navigator.clipboard?.writeText(secret).then(() => setCopied(true))}
        >
          {copied ? 'Copied' : 'Copy secret'}
        </button>
      </div>
      <p aria-live="polite" className="success">
        {copied ? 'Secret copied to the clipboard.' : ''}
      </p>
      <button type="button" className="button quiet" onClick={onDone}>
        Done
      </button>
    </div>
  );
}
