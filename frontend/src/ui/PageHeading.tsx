// A page's <h1>: sets the document title, and takes focus after a client-side navigation so
// keyboard and screen-reader users start at the new content.
import { useEffect, useRef, type ReactNode } from 'react';
import { takeNavigationFocus } from './routeFocus';

export function PageHeading({ children, title }: { children: ReactNode; title: string }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${title} · Taskwell`;
  }, [title]);
  useEffect(() => {
    if (takeNavigationFocus()) ref.current?.focus();
  }, []);
  return (
    <h1 ref={ref} tabIndex={-1} className="page-heading">
      {children}
    </h1>
  );
}
