// "Deleted … Undo": stays while it has focus or the pointer, so nobody is rushed.
interface UndoToastProps {
  title: string;
  onUndo(): void;
  onDismiss(): void;
  onPause(): void;
  onResume(): void;
}

export function UndoToast({ title, onUndo, onDismiss, onPause, onResume }: UndoToastProps) {
  return (
    <div
      className="toast"
      role="status"
      onMouseEnter={onPause}
      onMouseLeave={onResume}
      onFocus={onPause}
      onBlur={onResume}
    >
      <span className="toast-text">Deleted “{title}”.</span>
      <button type="button" className="button small" onClick={onUndo} aria-keyshortcuts="z">
        Undo
      </button>
      <button type="button" className="button small quiet" onClick={onDismiss} aria-label="Dismiss">
        ×
      </button>
    </div>
  );
}
