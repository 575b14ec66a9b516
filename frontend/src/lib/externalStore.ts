// The shape every store the screens read with useSyncExternalStore shares: state, subscribe, set.
export class ExternalStore<S> {
  private readonly listeners = new Set<() => void>();

  constructor(protected state: S) {}

  readonly getState = (): S => this.state;

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  protected set(patch: Partial<S>): void {
    this.state = { ...this.state, ...patch };
    for (const listener of this.listeners) listener();
  }
}
