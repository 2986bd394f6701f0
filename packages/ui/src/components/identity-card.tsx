// One identity as a card: name, label, counts and its contact sheet, loaded when scrolled to.
import type { IdentitySummary } from '../api-types';
import { useLazyImage } from '../lazy-image';
import { Link } from './link';

export function identityTitle(identity: Pick<IdentitySummary, 'name' | 'label'>): string {
  return identity.label ? `${identity.label} (${identity.name})` : identity.name;
}

/** The identity's contact sheet (GET /identities/:id/contact-sheet), fetched once scrolled to; again after a change. */
function ContactSheet({ identity }: { identity: IdentitySummary }) {
  const path = `/identities/${encodeURIComponent(identity.id)}/contact-sheet?v=${identity.version}`;
  const { ref, src, failed } = useLazyImage<HTMLDivElement>(path);
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
