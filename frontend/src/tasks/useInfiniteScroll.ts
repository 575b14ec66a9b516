// Load the next page when the end of the list comes near (IntersectionObserver).
import { useEffect, useState } from 'react';

/** Returns a ref callback for the sentinel after the list. `version` changes re-arm it, so a
 * sentinel still visible after a page arrives asks for the next one. */
export function useInfiniteScroll(onMore: () => void, enabled: boolean, version: number) {
  const [node, setNode] = useState<Element | null>(null);
  useEffect(() => {
    if (!node || !enabled || typeof IntersectionObserver === 'undefined') return;
    const observer = new IntersectionObserver(
      (entries) => {
        if (entries.some((entry) => entry.isIntersecting)) onMore();
      },
      { rootMargin: '400px 0px' },
    );
    observer.observe(node);
    return () => observer.disconnect();
  }, [node, enabled, onMore, version]);
  return setNode;
}
