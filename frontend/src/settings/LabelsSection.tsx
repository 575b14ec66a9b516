// Your labels: rename, recolour, delete. They live in the workspace's label store, the one copy
// every picker, filter and task chip reads, so a change shows everywhere at once.
import { useEffect, useId, useRef, useState, useSyncExternalStore, type FormEvent } from 'react';
import { ApiError, messageOf } from '../api/http';
import type { Label, LabelChanges } from '../api/types';
import { labelNameProblem } from '../labels/names';
import { useWorkspace } from '../tasks/workspace';
import { ColorDot } from '../ui/ColorDot';
import { ColorSelect } from '../ui/ColorSelect';
import { colorName } from '../ui/colors';
import { Field, FormError } from '../ui/Field';

type Mode = { labelId: string; kind: 'edit' | 'confirm-delete' } | null;

/** What to tell the person when the API refuses a change: its problem's detail, except for
 * a 412, whose detail speaks to API clients. */
function refusal(failure: unknown): string {
  if (failure instanceof ApiError && failure.status === 412)
    return 'This label was changed elsewhere meanwhile and now shows its latest version. Try again.';
  return messageOf(failure);
}

/** The fields the form changed, trimmed; empty when nothing did. */
function changesOf(label: Label, form: HTMLFormElement): { name: string; changes: LabelChanges } {
  const data = new FormData(form);
  const name = String(data.get('name') ?? '').trim();
  const color = String(data.get('color') ?? '') || null;
  const changes: LabelChanges = {};
  if (name !== label.name) changes.name = name;
  if (color !== (label.color?.toLowerCase() ?? null)) changes.color = color;
  return { name, changes };
}

function EditLabelForm(props: { label: Label; onSaved(label: Label): void; onCancel(): void }) {
  const { labels } = useWorkspace();
  const { label } = props;
  const [error, setError] = useState<string | null>(null);
  const busy = useRef(false);
  const errorId = useId();

  async function save(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (busy.current) return;
    const { name, changes } = changesOf(label, event.currentTarget);
    const problem = labelNameProblem(name);
    if (problem) return setError(problem);
    if (Object.keys(changes).length === 0) return props.onCancel();
    busy.current = true;
    setError(null);
    try {
      props.onSaved(await labels.update(label.id, changes));
    } catch (failure) {
      setError(refusal(failure));
    } finally {
      busy.current = false;
    }
  }

  return (
    <form
      className="stack label-edit"
      aria-label={`Edit label ${label.name}`}
      noValidate
      onSubmit={(event) => void save(event)}
      onKeyDown={(event) => {
        if (event.key !== 'Escape') return;
        event.stopPropagation();
        props.onCancel();
      }}
    >
      <Field
        label="Label name"
        name="name"
        defaultValue={label.name}
        autoComplete="off"
        autoFocus
        aria-invalid={error ? true : undefined}
        aria-describedby={errorId}
      />
      <ColorSelect name="color" defaultValue={label.color} />
      <FormError id={errorId} message={error} />
      <div className="row">
        <button type="submit" className="button small primary">
          Save
        </button>
        <button type="button" className="button small" onClick={props.onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function ConfirmDelete(props: { label: Label; onDeleted(): void; onKeep(): void }) {
  const { labels } = useWorkspace();
  const [error, setError] = useState<string | null>(null);
  const busy = useRef(false);
  const keep = useRef<HTMLButtonElement>(null);
  // The safe answer has the keyboard first.
  useEffect(() => keep.current?.focus(), []);

  async function remove() {
    if (busy.current) return;
    busy.current = true;
    setError(null);
    try {
      await labels.remove(props.label.id);
      props.onDeleted();
    } catch (failure) {
      setError(refusal(failure));
      busy.current = false;
    }
  }

  return (
    <div className="stack">
      <div
        className="row wrap"
        role="group"
        aria-label={`Delete label ${props.label.name}?`}
        onKeyDown={(event) => {
          if (event.key !== 'Escape') return;
          event.stopPropagation();
          props.onKeep();
        }}
      >
        <span>Delete “{props.label.name}”? It comes off every task that has it.</span>
        <button type="button" className="button small danger" onClick={() => void remove()}>
          Yes, delete
        </button>
        <button type="button" className="button small" ref={keep} onClick={props.onKeep}>
          Keep it
        </button>
      </div>
      <FormError message={error} />
    </div>
  );
}

function LabelRow(props: { label: Label; onEdit(): void; onDelete(): void }) {
  const { label } = props;
  return (
    <>
      <span className="label-name">
        <ColorDot color={label.color} />
        <strong>{label.name}</strong>
        <span className="muted small">{colorName(label.color)}</span>
      </span>
      <span className="row">
        <button
          type="button"
          className="button small"
          data-action="edit"
          aria-label={`Edit label ${label.name}`}
          onClick={props.onEdit}
        >
          Edit
        </button>
        <button
          type="button"
          className="button small danger"
          data-action="delete"
          aria-label={`Delete label ${label.name}`}
          onClick={props.onDelete}
        >
          Delete
        </button>
      </span>
    </>
  );
}

export function LabelsSection() {
  const { labels } = useWorkspace();
  const state = useSyncExternalStore(labels.subscribe, labels.getState);
  const [mode, setMode] = useState<Mode>(null);
  const [status, setStatus] = useState('');
  const list = useRef<HTMLUListElement>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  /** Where the keyboard goes once the next render is on screen. */
  const refocus = useRef<(() => HTMLElement | null | undefined) | null>(null);
  useEffect(() => void labels.ensureLoaded(), [labels]);
  useEffect(() => {
    const target = refocus.current?.();
    refocus.current = null;
    target?.focus();
  });

  const button = (labelId: string, action: 'edit' | 'delete') => () =>
    list.current?.querySelector<HTMLElement>(`[data-label-id="${CSS.escape(labelId)}"] [data-action="${action}"]`);

  function back(labelId: string, action: 'edit' | 'delete', message = '') {
    refocus.current = button(labelId, action);
    setMode(null);
    setStatus(message);
  }

  function deleted(label: Label, index: number) {
    // The label that took its place, else the one before it, else the heading.
    refocus.current = () => {
      const rows = list.current?.querySelectorAll<HTMLElement>('[data-action="edit"]') ?? [];
      return rows[Math.min(index, rows.length - 1)] ?? heading.current;
    };
    setMode(null);
    setStatus(`Label “${label.name}” deleted.`);
  }

  function saved(before: Label, after: Label) {
    const what = before.name !== after.name ? `renamed to “${after.name}”` : `now ${colorName(after.color)}`;
    back(after.id, 'edit', `Label “${before.name}” ${what}.`);
  }

  return (
    <section className="card" aria-labelledby="labels-heading">
      <h2 id="labels-heading" ref={heading} tabIndex={-1}>
        Labels
      </h2>
      <p className="muted">Rename, recolour or delete your labels. Add labels to a task on its page.</p>
      {!state.loaded && !state.error && <p className="loading">Loading labels…</p>}
      {state.fromCache && <p className="note">You are offline: these are the labels saved on this device.</p>}
      <FormError message={state.error} />
      {state.loaded && state.labels.length === 0 && <p className="muted">You have no labels yet.</p>}
      {state.labels.length > 0 && (
        <ul className="plain-list" aria-label="Your labels" ref={list}>
          {state.labels.map((label, index) => (
            <li key={label.id} className="label-item" data-label-id={label.id}>
              {mode?.labelId === label.id && mode.kind === 'edit' ? (
                <EditLabelForm
                  label={label}
                  onSaved={(after) => saved(label, after)}
                  onCancel={() => back(label.id, 'edit')}
                />
              ) : mode?.labelId === label.id ? (
                <ConfirmDelete
                  label={label}
                  onDeleted={() => deleted(label, index)}
                  onKeep={() => back(label.id, 'delete')}
                />
              ) : (
                <LabelRow
                  label={label}
                  onEdit={() => setMode({ labelId: label.id, kind: 'edit' })}
                  onDelete={() => setMode({ labelId: label.id, kind: 'confirm-delete' })}
                />
              )}
            </li>
          ))}
        </ul>
      )}
      <p aria-live="polite" className="success">
        {status}
      </p>
    </section>
  );
}
