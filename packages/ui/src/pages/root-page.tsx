// An output root's identities (/ui?outputRoot=…): every active face set as a card, merged and deleted ones on request.
import { useEffect, useState } from 'preact/hooks';
import { getAll } from '../api';
import type { IdentitySummary } from '../api-types';
import { IdentityCard, identityTitle } from '../components/identity-card';

export function RootPage({ outputRoot }: { outputRoot: string }) {
  const [identities, setIdentities] = useState<IdentitySummary[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [filter, setFilter] = useState('');
  const [all, setAll] = useState(false);

  useEffect(() => {
    const abort = new AbortController();
    setIdentities(null);
    getAll<IdentitySummary>('/identities', { outputRoot, limit: 200, state: all ? undefined : 'active' }, abort.signal)
      .then((items) => {
        setIdentities(items);
        setError(null);
      })
      .catch((err: Error) => {
        if (!abort.signal.aborted) setError(err.message);
      });
    return () => abort.abort();
  }, [outputRoot, all]);

  const needle = filter.trim().toLowerCase();
  const shown = (identities ?? []).filter((i) => !needle || identityTitle(i).toLowerCase().includes(needle));
  return (
    <section>
      <h1>
        Identities <span class="muted path">{outputRoot}</span>
      </h1>
      <div class="toolbar">
        <input type="search" placeholder="filter by name or label" value={filter} onInput={(e) => setFilter(e.currentTarget.value)} />
        <label>
          <input type="checkbox" checked={all} onChange={(e) => setAll(e.currentTarget.checked)} /> show merged and deleted
        </label>
        {identities ? <span class="muted">{shown.length} of {identities.length}</span> : null}
      </div>
      {error ? <p class="error">Could not list identities: {error}</p> : null}
      {identities === null && !error ? <p>Loading…</p> : null}
      {identities?.length === 0 ? <p>No identities in this output root yet.</p> : null}
      <div class="cards">
        {shown.map((i) => (
          <IdentityCard key={i.id} identity={i} />
        ))}
      </div>
    </section>
  );
}
