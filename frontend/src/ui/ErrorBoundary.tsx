// Shows a way out instead of a blank page when a screen fails to render or load.
import { Component, type ErrorInfo, type ReactNode } from 'react';
import { reportError } from '../rum/errors';

interface State {
  failed: boolean;
}

export class ErrorBoundary extends Component<{ children: ReactNode }, State> {
  override state: State = { failed: false };

  static getDerivedStateFromError(): State {
    return { failed: true };
  }

  override componentDidCatch(error: Error, info: ErrorInfo): void {
    reportError({ message: error.message, stack: `${error.stack ?? ''}\n${info.componentStack ?? ''}` });
  }

  override render() {
    if (!this.state.failed) return this.props.children;
    return (
      <div className="page narrow" role="alert">
        <h1>Something went wrong</h1>
        <p>This screen could not be shown. If you are offline, connect and try again.</p>
        <button type="button" className="button primary" onClick={() => window.location.reload()}>
          Reload
        </button>
      </div>
    );
  }
}
