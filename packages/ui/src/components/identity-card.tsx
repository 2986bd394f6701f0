// One identity as a card: name, label, counts and a contact sheet of its first faces, loaded when scrolled to.
import { useEffect, useRef, useState } from 'preact/hooks';
import { get } from '../api';
import type { IdentityDetail, IdentitySummary } from '../api-types';
import { useNearViewport } from '../near-viewport';
import { Link } from './link';
import { Thumb } from './thumb';

const SHEET_FACES = 8;

export function identityTitle(identity: Pick<IdentitySummary, 'name' | 'label'>): string {
  return identity.label ? `${identity.label} (${identity.name})` : identity.name;
}

function ContactSheet({ id }: { id: string }) {
  const ref = useRef<HTMLDivElement>(null);
  const near = useNearViewport(ref);
  const [faces, setFaces] = useState<string[] | null>(null);
  useEffect(() => {
    if (!near) return;
    const abort = new AbortController();
    get<IdentityDetail>(`/identities/${encodeURIComponent(id)}`, abort.signal)
      .then((d) => setFaces(d.faces.slice(0, SHEET_FACES).map((f) => f.id)))
      .catch(() => setFaces([]));
    return () => abort.abort();
  }, [near, id]);
  return (
    <div ref={ref} class="sheet">
      {(faces ?? []).map((faceId) => (
        <Thumb key={faceId} faceId={faceId} size={64} alt="" />
      ))}
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
      {identity.state === 'active' ? <ContactSheet id={identity.id} /> : null}
    </div>
  );
}
