// Tells a component when it has scrolled near the viewport (one shared IntersectionObserver for the whole page).
import type { RefObject } from 'preact';
import { useEffect, useState } from 'preact/hooks';

type Visible = () => void;
const waiting = new Map<Element, Visible>();
let observer: IntersectionObserver | null = null;

function observe(el: Element, onVisible: Visible): () => void {
  observer ??= new IntersectionObserver(
    (entries) => {
      for (const entry of entries) {
        if (!entry.isIntersecting) continue;
        const cb = waiting.get(entry.target);
        waiting.delete(entry.target);
        observer?.unobserve(entry.target);
        cb?.();
      }
    },
    { rootMargin: '400px 0px' },
  );
  waiting.set(el, onVisible);
  observer.observe(el);
  return () => {
    waiting.delete(el);
    observer?.unobserve(el);
  };
}

/** Becomes true once the element is within 400 px of the viewport, and stays true. */
export function useNearViewport(ref: RefObject<Element | null>): boolean {
  const [near, setNear] = useState(false);
  useEffect(() => {
    const el = ref.current;
    if (!el || near) return;
    return observe(el, () => setNear(true));
  }, [near]);
  return near;
}
