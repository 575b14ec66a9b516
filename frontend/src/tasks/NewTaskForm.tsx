// The "New task" box: type a title, press Enter.
import { forwardRef, useState, type FormEvent } from 'react';

export const NewTaskForm = forwardRef<HTMLInputElement, { onCreate(title: string): void }>(function NewTaskForm(
  { onCreate },
  ref,
) {
  const [title, setTitle] = useState('');

  function submit(event: FormEvent) {
    event.preventDefault();
    const trimmed = title.trim();
    if (!trimmed) return;
    onCreate(trimmed);
    setTitle('');
  }

  return (
    <form className="new-task" onSubmit={submit}>
      <label htmlFor="new-task">New task</label>
      <div className="new-task-row">
        <input
          ref={ref}
          id="new-task"
          type="text"
          value={title}
          maxLength={500}
          autoComplete="off"
          enterKeyHint="done"
          aria-keyshortcuts="n"
          placeholder="What needs doing?"
          onChange={(event) => setTitle(event.target.value)}
        />
        <button type="submit" className="button primary">
          Add
        </button>
      </div>
    </form>
  );
});
