// One identity as a card: name, label, counts and its contact sheet, loaded when scrolled to.
import { useEffect, useRef, useState } from 'preact/hooks';
import { imageUrl } from '../api';
import type { IdentitySummary } from '../api-types';
import { useNearViewport } from '../near-viewport';
import { Link } from './link';

export function identityTitle(identity: Pick<IdentitySummary, 'name' | 'label'>): string {
  return identity.label ? `${identity.label} (${identity.name})` : identity.name;
}

/** The identity's contact sheet (GET /identities/:id/contact-sheet), fetched with the token once scrolled to. */
function ContactSheet({ identity }: { identity: IdentitySummary }) {
  const ref = useRef<HTMLDivElement>(null);
  const near = useNearViewport(ref);
  const [src, setSrc] = useState<string | null>(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    if (!near) return;
    const abort = new AbortController();
    let url: string | null = null;
    imageUrl(`/identities/${encodeURIComponent(identity.id)}/contact-sheet`, abort.signal)
      .then((u) => {
        url = u;
        setSrc(u);
      })
      .catch(() => {
        if (!abort.signal.aborted) setFailed(true);
      });
    return () => {
      abort.abort();
      if (url) URL.revokeObjectURL(url);
    };
  }, [near, identity.id, identity.version]);
  return (
    <div ref={ref} class="sheet">
      {src ? <img src={src} alt={`contact sheet of ${identity.name}`} /> : failed ? <span class="muted">no contact sheet</span> : null}
    </div>
  );
}

export function IdentityCard({ identity, note }: { identity: IdentitySummary; note?: string }) {
  return (
    <div class={`card identity-card state-${identity.state}`} data-testid="identity-card" data-name={identity.name}>
      <div class="card-head">
        <Link to={{ page: 'identity', id: identity.id }} class="card-title">
          {identityTitle(identity)}
        </Link>
        <span class="muted">
          {identity.count} faces{identity.thin ? ' · thin' : ''}
          {identity.state !== 'active' ? ` · ${identity.state}` : ''}
          {note ? ` · ${note}` : ''}
        </span>
      </div>
      {identity.state === 'active' && identity.contactSheet ? <ContactSheet identity={identity} /> : null}
    </div>
  );
}
