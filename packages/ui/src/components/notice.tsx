// One line of news at the top of a page: what the last action did (with its undo), or what went wrong.
import type { ComponentChildren } from 'preact';

export interface NoticeValue {
  kind: 'ok' | 'error' | 'conflict';
  text: string;
  action?: { label: string; run: () => void };
}

export function Notice({ notice, onClose }: { notice: NoticeValue | null; onClose: () => void }): ComponentChildren {
  if (!notice) return null;
  return (
    <div class={`notice notice-${notice.kind}`} role={notice.kind === 'ok' ? 'status' : 'alert'} data-testid="notice">
      <span>{notice.text}</span>
      {notice.action ? (
        <button type="button" onClick={notice.action.run}>
          {notice.action.label}
        </button>
      ) : null}
      <button type="button" class="notice-close" aria-label="dismiss" onClick={onClose}>
        ×
      </button>
    </div>
  );
}
