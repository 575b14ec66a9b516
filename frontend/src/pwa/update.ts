// A new service worker took over: the next navigation reloads into the new version rather
// than interrupting the person mid-edit.

let updateWaiting = false;

export function noteUpdate(): void {
  updateWaiting = true;
}

export function reloadIfUpdated(): boolean {
  if (!updateWaiting) return false;
  window.location.reload();
  return true;
}
