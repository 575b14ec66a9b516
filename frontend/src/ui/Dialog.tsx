/**
 * A modal dialog: named by its heading, focus moved in, trapped, and given back on close;
 * the page behind is inert. Written here rather than taken from a library because with
 * `inert` doing the heavy lifting the trap is a dozen lines.
 */
import { useEffect, useId, useRef, type ReactNode } from 'react';
import { createPortal } from 'react-dom';

const FOCUSABLE =
  'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

/** Open dialogs, the topmost last: only it answers Escape and Tab. */
const open: HTMLElement[] = [];

export function isDialogOpen(): boolean {
  return open.length > 0;
}

function focusables(node: HTMLElement): HTMLElement[] {
  return Array.from(node.querySelectorAll<HTMLElement>(FOCUSABLE));
}

function trapTab(event: KeyboardEvent, node: HTMLElement): void {
  const items = focusables(node);
  const first = items[0];
  const last = items[items.length - 1];
  if (!first || !last) {
    event.preventDefault();
    return;
  }
  const inside = node.contains(document.activeElement);
  if (event.shiftKey && (!inside || document.activeElement === first || document.activeElement === node)) {
    event.preventDefault();
    last.focus();
  } else if (!event.shiftKey && (!inside || document.activeElement === last)) {
    event.preventDefault();
    first.focus();
  }
}

interface DialogProps {
  title: string;
  children: ReactNode;
  /** Escape closes the dialog when given; a dialog that needs an answer leaves it out. */
  onClose?: () => void;
  className?: string;
}

export function Dialog({ title, children, onClose, className }: DialogProps) {
  const ref = useRef<HTMLDivElement>(null);
  const titleId = useId();
  const closeRef = useRef(onClose);
  closeRef.current = onClose;

  useEffect(() => {
    const node = ref.current;
    if (!node) return;
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    const root = document.getElementById('root');
    open.push(node);
    root?.setAttribute('inert', '');
    (node.querySelector<HTMLElement>('[data-autofocus]') ?? focusables(node)[0] ?? node).focus();
    // On the document, not the dialog: a control that went away (a removed row) leaves the
    // focus on <body>, and Escape and Tab must still work from there.
    const onKeyDown = (event: KeyboardEvent) => {
      if (open.at(-1) !== node) return;
      if (event.key === 'Tab') trapTab(event, node);
      if (event.key === 'Escape' && closeRef.current) {
        event.stopPropagation();
        closeRef.current();
      }
    };
    document.addEventListener('keydown', onKeyDown);
    return () => {
      document.removeEventListener('keydown', onKeyDown);
      open.splice(open.indexOf(node), 1);
      if (open.length === 0) root?.removeAttribute('inert');
      if (opener?.isConnected) opener.focus();
    };
  }, []);

  return createPortal(
    <div className="dialog-backdrop">
      <div
        ref={ref}
        role="dialog"
        aria-modal="true"
        aria-labelledby={titleId}
        tabIndex={-1}
        className={`dialog ${className ?? ''}`}
      >
        <h2 id={titleId} className="dialog-title">
          {title}
        </h2>
        {children}
      </div>
    </div>,
    document.body,
  );
}
