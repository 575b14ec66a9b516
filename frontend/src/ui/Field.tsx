// A labelled form control with an optional hint, wired for assistive technology.
import { useId, type InputHTMLAttributes } from 'react';

interface FieldProps extends InputHTMLAttributes<HTMLInputElement> {
  label: string;
  hint?: string;
}

export function Field({ label, hint, className, ...input }: FieldProps) {
  const id = useId();
  const hintId = `${id}-hint`;
  return (
    <div className={`field ${className ?? ''}`}>
      <label htmlFor={id}>{label}</label>
      <input id={id} aria-describedby={hint ? hintId : undefined} {...input} />
      {hint && (
        <p id={hintId} className="hint">
          {hint}
        </p>
      )}
    </div>
  );
}

/** A form's error, announced when it appears; `id` lets a field name it (aria-describedby). */
export function FormError({ message, id }: { message: string | null; id?: string }) {
  return (
    <p id={id} role="alert" className={message ? 'form-error' : 'visually-hidden'}>
      {message ?? ''}
    </p>
  );
}
