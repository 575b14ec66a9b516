/**
 * A project's board: a column per section, cards in manual order. A card moves by dragging
 * it (HTML5 drag and drop), or from the keyboard: its Move button picks it up, the arrow keys
 * (and Home, End) move it, Space or Enter drops it, Escape or Tab cancels; each step is
 * announced. While a card is on its way it stays where it is and a marker shows where it
 * would land, so the focused button is never re-created under the keyboard. A section moves
 * one place left or right with the buttons on its column's head, announced the same way.
 */
import {
  Fragment,
  useEffect,
  useId,
  useLayoutEffect,
  useRef,
  useState,
  type DragEvent,
  type KeyboardEvent,
} from 'react';
import { Link } from 'wouter';
import type { Label, Task } from '../api/types';
import { TaskMeta } from '../tasks/TaskItem';
import type { ViewTask } from '../offline/overlay';
import {
  MOVE_KEYS,
  describeSpot,
  dropChanges,
  indexAtPointer,
  isSameSpot,
  nextSpot,
  othersIn,
  spotOf,
  type Column,
  type MoveKey,
  type Spot,
} from './moves';

interface Drag {
  taskId: string;
  to: Spot;
  via: 'keyboard' | 'pointer';
}

export interface SectionActions {
  onRename(sectionId: string, name: string): void;
  onDelete(sectionId: string): void;
  /** Move the section one place left (-1) or right (+1): shown at once; rejects (once it is
   * back where it was) if the server refuses. */
  onMove(sectionId: string, step: -1 | 1): Promise<void>;
}

interface BoardProps {
  columns: readonly Column[];
  /** The caller may change tasks in this project (not a viewer). */
  editable: boolean;
  onMove(task: Task, changes: { section_id: string | null; position: number }): Promise<void>;
  onToggle(task: Task): void;
  sectionActions?: SectionActions;
  labels: ReadonlyMap<string, Label>;
}

function Card(props: {
  task: ViewTask;
  labels: ReadonlyMap<string, Label>;
  lifted: boolean;
  editable: boolean;
  helpId: string;
  onPick(task: ViewTask): void;
  onKey(event: KeyboardEvent<HTMLButtonElement>, task: ViewTask): void;
  onDragStart(event: DragEvent<HTMLLIElement>, task: ViewTask): void;
  onDragEnd(): void;
  onToggle(task: Task): void;
}) {
  const { task, lifted, editable } = props;
  const done = task.status === 'done';
  return (
    <li
      className={`board-card${lifted ? ' lifted' : ''}${done ? ' done' : ''}`}
      data-task-id={task.id}
      draggable={editable}
      onDragStart={(event) => props.onDragStart(event, task)}
      onDragEnd={props.onDragEnd}
    >
      <input
        type="checkbox"
        className="task-check"
        checked={done}
        disabled={!editable}
        onChange={() => props.onToggle(task)}
        aria-label={`Complete ${task.title}`}
      />
      <div className="task-body">
        <Link href={`/tasks/${encodeURIComponent(task.id)}`} className="task-title" draggable={false}>
          {task.title}
        </Link>
        <TaskMeta task={task} labels={props.labels} />
      </div>
      {editable && (
        <button
          type="button"
          className="button small move-handle"
          data-move={task.id}
          aria-label={`Move ${task.title}`}
          aria-describedby={props.helpId}
          aria-pressed={lifted}
          onClick={() => props.onPick(task)}
          onKeyDown={(event) => props.onKey(event, task)}
        >
          Move
        </button>
      )}
    </li>
  );
}

function SectionHeading({
  column,
  count,
  actions,
  first,
  last,
  onMove,
}: {
  column: Column;
  count: number;
  actions: SectionActions | undefined;
  /** The leftmost / rightmost section: it cannot go further that way. */
  first: boolean;
  last: boolean;
  onMove(step: -1 | 1): void;
}) {
  const [renaming, setRenaming] = useState(false);
  const inputId = useId();
  if (renaming && column.id) {
    const id = column.id;
    return (
      <form
        className="row section-rename"
        onSubmit={(event) => {
          event.preventDefault();
          const name = String(new FormData(event.currentTarget).get('name') ?? '').trim();
          if (name && name !== column.name) actions?.onRename(id, name);
          setRenaming(false);
        }}
        onKeyDown={(event) => event.key === 'Escape' && setRenaming(false)}
      >
        <label htmlFor={inputId} className="visually-hidden">
          Section name
        </label>
        <input id={inputId} name="name" defaultValue={column.name} maxLength={200} autoFocus />
        <button type="submit" className="button small primary">
          Save
        </button>
      </form>
    );
  }
  return (
    <div className="column-head">
      <h2>
        {column.name} <span className="muted count">({count})</span>
      </h2>
      {actions && column.id && (
        <span className="row wrap">
          {([-1, 1] as const).map((step) => (
            <button
              key={step}
              type="button"
              className="button small quiet"
              aria-label={`Move section ${column.name} ${step < 0 ? 'left' : 'right'}`}
              // Not `disabled`: that would drop the keyboard focus when a move reaches an end.
              aria-disabled={(step < 0 ? first : last) || undefined}
              onClick={() => onMove(step)}
            >
              <span aria-hidden="true">{step < 0 ? '←' : '→'}</span>
            </button>
          ))}
          <button
            type="button"
            className="button small quiet"
            aria-label={`Rename section ${column.name}`}
            onClick={() => setRenaming(true)}
          >
            Rename
          </button>
          <button
            type="button"
            className="button small quiet"
            aria-label={`Delete section ${column.name}`}
            onClick={() => actions.onDelete(column.id!)}
          >
            Delete
          </button>
        </span>
      )}
    </div>
  );
}

export function Board({ columns, editable, onMove, onToggle, sectionActions, labels }: BoardProps) {
  const [drag, setDrag] = useState<Drag | null>(null);
  const [message, setMessage] = useState('');
  const helpId = useId();
  const refocus = useRef<string | null>(null);
  const dropping = useRef(false);
  const dragRef = useRef(drag);
  dragRef.current = drag;

  const taskOf = (id: string) => columns.flatMap((column) => column.tasks).find((task) => task.id === id);

  // A card the person was moving left the board (deleted, moved elsewhere): stop.
  useEffect(() => {
    if (drag && !spotOf(columns, drag.taskId)) setDrag(null);
  }, [columns, drag]);

  // After a keyboard drop the card is re-created in its new column: its Move button gets the
  // keyboard back.
  useLayoutEffect(() => {
    const id = refocus.current;
    if (!id) return;
    const active = document.activeElement;
    const button = document.querySelector<HTMLElement>(`[data-move="${CSS.escape(id)}"]`);
    if (button && (active === null || active === document.body || !active.isConnected)) button.focus();
    if (button && document.activeElement === button) refocus.current = null;
  });

  // A click anywhere else ends a keyboard move.
  useEffect(() => {
    if (drag?.via !== 'keyboard') return;
    const onPointerDown = (event: PointerEvent) => {
      if (!(event.target instanceof Element) || !event.target.closest(`[data-move]`)) cancel();
    };
    document.addEventListener('pointerdown', onPointerDown);
    return () => document.removeEventListener('pointerdown', onPointerDown);
  });

  function pickUp(task: ViewTask) {
    const from = spotOf(columns, task.id);
    if (!from) return;
    setDrag({ taskId: task.id, to: from, via: 'keyboard' });
    setMessage(
      `Picked up ${task.title}: ${describeSpot(columns, task.id, from)}. ` +
        'Arrow keys move it, Space or Enter drops it, Escape cancels.',
    );
  }

  function cancel() {
    const current = dragRef.current;
    if (!current) return;
    setDrag(null);
    setMessage(`Move of ${taskOf(current.taskId)?.title ?? 'the card'} cancelled.`);
  }

  async function drop() {
    const current = dragRef.current;
    const task = current && taskOf(current.taskId);
    if (!current || !task) return;
    if (current.via === 'keyboard') refocus.current = task.id;
    if (isSameSpot(columns, task.id, current.to)) {
      setDrag(null);
      setMessage(`${task.title} dropped where it was.`);
      return;
    }
    const where = describeSpot(columns, task.id, current.to);
    // The marker stays until the change is queued (and shown by the overlay), so the card
    // does not flash back to where it came from.
    dropping.current = true;
    try {
      await onMove(task, dropChanges(columns, task.id, current.to));
    } finally {
      dropping.current = false;
      setDrag(null);
    }
    setMessage(`Dropped ${task.title}: ${where}.`);
  }

  function onKey(event: KeyboardEvent<HTMLButtonElement>, task: ViewTask) {
    if (drag?.taskId !== task.id || drag.via !== 'keyboard') return; // Enter/Space click: pick up
    if (MOVE_KEYS.has(event.key)) {
      event.preventDefault();
      const to = nextSpot(columns, task.id, drag.to, event.key as MoveKey);
      setDrag({ ...drag, to });
      setMessage(describeSpot(columns, task.id, to));
    } else if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      void drop();
    } else if (event.key === 'Escape') {
      event.preventDefault();
      event.stopPropagation();
      cancel();
    } else if (event.key === 'Tab') {
      cancel();
    }
  }

  function moveSection(columnIndex: number, step: -1 | 1) {
    const column = columns[columnIndex]!;
    const sectionId = column.id;
    if (!sectionId || !sectionActions) return;
    // Column 0 is "No section", which stays first: the sections are columns 1 to n.
    const target = columnIndex + step;
    const sections = columns.length - 1;
    if (target < 1 || target > sections) {
      setMessage(`${column.name} is already the ${step < 0 ? 'first' : 'last'} section.`);
      return;
    }
    // Columns are keyed: React moves the element and the focus stays on this button.
    setMessage(`Moved ${column.name} ${step < 0 ? 'left' : 'right'}: section ${target} of ${sections}.`);
    // Back where it was: the page's alert says why.
    sectionActions.onMove(sectionId, step).catch(() => setMessage(''));
  }

  function onPick(task: ViewTask) {
    if (drag?.taskId === task.id) void drop();
    else pickUp(task);
  }

  function onDragStart(event: DragEvent<HTMLLIElement>, task: ViewTask) {
    const from = spotOf(columns, task.id);
    if (!from || !editable) return;
    event.dataTransfer.setData('text/plain', task.id);
    event.dataTransfer.effectAllowed = 'move';
    setDrag({ taskId: task.id, to: from, via: 'pointer' });
  }

  function onDragOver(event: DragEvent<HTMLElement>, column: number) {
    const current = dragRef.current;
    if (!current || current.via !== 'pointer') return;
    event.preventDefault();
    event.dataTransfer.dropEffect = 'move';
    const middles = Array.from(event.currentTarget.querySelectorAll<HTMLElement>('li[data-task-id]'))
      .filter((card) => card.dataset.taskId !== current.taskId)
      .map((card) => {
        const rect = card.getBoundingClientRect();
        return rect.top + rect.height / 2;
      });
    const to = { column, index: indexAtPointer(middles, event.clientY) };
    if (to.column !== current.to.column || to.index !== current.to.index) setDrag({ ...current, to });
  }

  function onDrop(event: DragEvent<HTMLElement>) {
    if (dragRef.current?.via !== 'pointer') return;
    event.preventDefault();
    void drop();
  }

  return (
    <>
      <p id={helpId} className="hint">
        {editable
          ? 'Drag a card to move it, or use its Move button: the arrow keys move it, Space or Enter drops it, Escape cancels.'
          : 'You can view this board but not move its cards.'}
      </p>
      <div className="visually-hidden" aria-live="assertive" aria-atomic="true">
        {message}
      </div>
      <div className="board">
        {columns.map((column, columnIndex) => {
          const marker = drag && drag.to.column === columnIndex && !isSameSpot(columns, drag.taskId, drag.to);
          const markerBefore = marker ? (othersIn(column, drag.taskId)[drag.to.index]?.id ?? 'end') : null;
          return (
            <section
              key={column.id ?? 'none'}
              className={`board-column${marker ? ' drop-target' : ''}`}
              aria-label={column.name}
              onDragOver={(event) => onDragOver(event, columnIndex)}
              onDrop={onDrop}
            >
              <SectionHeading
                column={column}
                count={column.tasks.length}
                actions={sectionActions}
                first={columnIndex === 1}
                last={columnIndex === columns.length - 1}
                onMove={(step) => moveSection(columnIndex, step)}
              />
              <ul className="board-cards" aria-label={`${column.name} tasks`}>
                {column.tasks.map((task) => (
                  <Fragment key={task.id}>
                    {markerBefore === task.id && <li className="drop-marker" aria-hidden="true" />}
                    <Card
                      task={task}
                      labels={labels}
                      lifted={drag?.taskId === task.id}
                      editable={editable}
                      helpId={helpId}
                      onPick={onPick}
                      onKey={onKey}
                      onDragStart={onDragStart}
                      onDragEnd={() => dragRef.current?.via === 'pointer' && !dropping.current && setDrag(null)}
                      onToggle={onToggle}
                    />
                  </Fragment>
                ))}
                {markerBefore === 'end' && <li className="drop-marker" aria-hidden="true" />}
              </ul>
            </section>
          );
        })}
      </div>
    </>
  );
}
