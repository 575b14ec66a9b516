// The list of keyboard shortcuts ("?").
import { Dialog } from './Dialog';

export const SHORTCUTS: readonly [string, string][] = [
  ['?', 'Show this list'],
  ['n', 'New task'],
  ['/', 'Search'],
  ['j', 'Next task'],
  ['k', 'Previous task'],
  ['x', 'Complete or reopen the focused task'],
  ['e', 'Edit the focused task (Enter saves, Escape cancels)'],
  ['Delete', 'Delete the focused task'],
  ['z', 'Undo the last deletion'],
];

export function ShortcutsDialog({ onClose }: { onClose(): void }) {
  return (
    <Dialog title="Keyboard shortcuts" onClose={onClose}>
      <table className="shortcuts">
        <thead>
          <tr>
            <th scope="col">Key</th>
            <th scope="col">Action</th>
          </tr>
        </thead>
        <tbody>
          {SHORTCUTS.map(([key, action]) => (
            <tr key={key}>
              <td>
                <kbd>{key}</kbd>
              </td>
              <td>{action}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="muted">Shortcuts work when you are not typing in a field.</p>
      <button type="button" className="button primary" onClick={onClose} data-autofocus>
        Close
      </button>
    </Dialog>
  );
}
