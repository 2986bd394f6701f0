// A face thumbnail fetched only when it scrolls near the viewport, a few at a time, with the API token.
import { useEffect, useRef, useState } from 'preact/hooks';
import { imageUrl } from '../api';
import { useNearViewport } from '../near-viewport';

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

export function thumbPath(faceId: string, size: number): string {
  return `/faces/${encodeURIComponent(faceId)}/thumb?size=${size}`;
}

export function Thumb({ faceId, size, alt }: { faceId: string; size: number; alt: string }) {
  const ref = useRef<HTMLDivElement>(null);
  const near = useNearViewport(ref);
  const [src, setSrc] = useState<string | null>(null);
  const [failed, setFailed] = useState(false);

  useEffect(() => {
    if (!near) return;
    const abort = new AbortController();
    let url: string | null = null;
    limited(() => (abort.signal.aborted ? Promise.resolve(null) : imageUrl(thumbPath(faceId, size), abort.signal)))
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
  }, [near, faceId, size]);

  return (
    <div ref={ref} class={`thumb${failed ? ' thumb-failed' : ''}`} style={{ width: `${size}px`, height: `${size}px` }}>
      {src ? <img src={src} alt={alt} width={size} height={size} decoding="async" /> : failed ? '×' : null}
    </div>
  );
}
