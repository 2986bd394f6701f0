// An API image (thumbnail, contact sheet) fetched with the token once its element nears the viewport, a few at a time.
import { useEffect, useRef, useState } from 'preact/hooks';
import { imageUrl } from './api';
import { useNearViewport } from './near-viewport';

// Browsers open about six connections per host; leave room for the event stream and the API calls.
const MAX_IN_FLIGHT = 4;
let inFlight = 0;
const queue: (() => void)[] = [];

async function limited<T>(task: () => Promise<T>): Promise<T> {
  if (inFlight >= MAX_IN_FLIGHT) await new Promise<void>((r) => queue.push(r));
  inFlight++;
  try {
    return await task();
  } finally {
    inFlight--;
    queue.shift()?.();
  }
}

/** `ref` goes on the placeholder; `src` is an object URL once loaded (revoked on unmount or a new path). */
export function useLazyImage<E extends Element>(path: string) {
  const ref = useRef<E>(null);
  const near = useNearViewport(ref);
  const [src, setSrc] = useState<string | null>(null);
  const [failed, setFailed] = useState(false);

  useEffect(() => {
    if (!near) return;
    const abort = new AbortController();
    let url: string | null = null;
    limited(() => (abort.signal.aborted ? Promise.resolve(null) : imageUrl(path, abort.signal)))
      .then((u) => {
        if (!u) return;
        if (abort.signal.aborted) URL.revokeObjectURL(u);
        else {
          url = u;
          setSrc(u);
        }
      })
      .catch(() => {
        if (!abort.signal.aborted) setFailed(true);
      });
    return () => {
      abort.abort();
      if (url) URL.revokeObjectURL(url);
    };
  }, [near, path]);

  return { ref, src, failed };
}
