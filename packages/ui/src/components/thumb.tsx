// A face thumbnail (GET /faces/:faceId/thumb?size=), loaded only when it scrolls near the viewport.
import { useLazyImage } from '../lazy-image';

export function thumbPath(faceId: string, size: number): string {
  return `/faces/${encodeURIComponent(faceId)}/thumb?size=${size}`;
}

export function Thumb({ faceId, size, alt }: { faceId: string; size: number; alt: string }) {
  const { ref, src, failed } = useLazyImage<HTMLDivElement>(thumbPath(faceId, size));
  return (
    <div ref={ref} class={`thumb${failed ? ' thumb-failed' : ''}`} style={{ width: `${size}px`, height: `${size}px` }}>
      {src ? <img src={src} alt={alt} width={size} height={size} decoding="async" /> : failed ? '×' : null}
    </div>
  );
}
