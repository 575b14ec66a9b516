// Keyboard focus in the task list: moving between rows, and keeping it when the list re-renders.
import { useEffect, useLayoutEffect, useRef, type RefObject } from 'react';

const FOCUSABLE = 'input, button, a[href], textarea, select';

export function taskItems(): HTMLElement[] {
  return Array.from(document.querySelectorAll<HTMLElement>('.task-list > li[data-task-key]'));
}

export function focusedItem(): HTMLElement | null {
  return document.activeElement instanceof HTMLElement
    ? document.activeElement.closest<HTMLElement>('li[data-task-key]')
    : null;
}

export function focusItem(key: string): void {
  taskItems()
    .find((item) => item.dataset.taskKey === key)
    ?.focus();
}

/** j / k: the next or previous row (the first or last when none has the focus). */
export function moveFocus(step: 1 | -1): void {
  const items = taskItems();
  const index = items.indexOf(focusedItem() as HTMLElement);
  const next =
    items[index === -1 ? (step === 1 ? 0 : items.length - 1) : Math.min(Math.max(index + step, 0), items.length - 1)];
  next?.focus();
  next?.scrollIntoView?.({ block: 'nearest' });
}

interface KeptFocus {
  key: string;
  /** Which focusable element of the row (-1: the row itself). */
  control: number;
  /** The row's position, for when the row itself is gone. */
  index: number;
}

/**
 * Keeps the keyboard in the list when a render takes the focused element away: a row that
 * moved (the server's order after a sync), or that left the view (it no longer matches the
 * filters). Focus goes back to the same control of the same row, else to the row now at its
 * place (the next one), else to `fallback`. Only focus lost to <body> is restored: a person
 * who moved the focus elsewhere, or clicked outside, keeps it there.
 */
export function useKeptFocus(keys: string, fallback: RefObject<HTMLElement | null>): void {
  const kept = useRef<KeptFocus | null>(null);

  useEffect(() => {
    const onFocusIn = (event: FocusEvent) => {
      const target = event.target instanceof HTMLElement ? event.target : null;
      const item = target?.closest<HTMLElement>('.task-list > li[data-task-key]');
      if (!target || !item) {
        kept.current = null;
        return;
      }
      const controls = Array.from(item.querySelectorAll<HTMLElement>(FOCUSABLE));
      kept.current = {
        key: item.dataset.taskKey!,
        control: controls.indexOf(target),
        index: taskItems().indexOf(item),
      };
    };
    // A blur to nothing that a render did not undo (clicking outside): forget the row.
    const onFocusOut = () =>
      setTimeout(() => {
        if (document.activeElement === document.body || document.activeElement === null) kept.current = null;
      });
    document.addEventListener('focusin', onFocusIn);
    document.addEventListener('focusout', onFocusOut);
    return () => {
      document.removeEventListener('focusin', onFocusIn);
      document.removeEventListener('focusout', onFocusOut);
    };
  }, []);

  useLayoutEffect(() => {
    const last = kept.current;
    const active = document.activeElement;
    if (!last || (active !== null && active !== document.body)) return;
    const items = taskItems();
    const row = items.find((item) => item.dataset.taskKey === last.key);
    if (row) {
      (row.querySelectorAll<HTMLElement>(FOCUSABLE)[last.control] ?? row).focus();
    } else {
      (items[Math.min(last.index, items.length - 1)] ?? fallback.current)?.focus();
    }
  }, [keys, fallback]);
}
