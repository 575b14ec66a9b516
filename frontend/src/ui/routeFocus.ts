// Focus management across client-side navigation: the new page's heading takes focus.

let navigated = false;

/** Called by the router on every location change after the first render. */
export function markNavigation(): void {
  navigated = true;
}

/** True once per navigation: the first heading to mount after it takes focus. */
export function takeNavigationFocus(): boolean {
  const value = navigated;
  navigated = false;
  return value;
}
