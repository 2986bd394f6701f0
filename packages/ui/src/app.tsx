// The page shell: header, the token prompt, and the page the query string names.
import { useEffect, useState } from 'preact/hooks';
import { onAuthNeeded, storeToken, storedToken } from './api';
import { Link } from './components/link';
import { TokenForm } from './components/token-form';
import { IdentityPage } from './pages/identity-page';
import { JobPage } from './pages/job-page';
import { JobsPage } from './pages/jobs-page';
import { RootPage } from './pages/root-page';
import { navigate, onRouteChange, parseRoute, type Route } from './route';

function CurrentPage({ route }: { route: Route }) {
  switch (route.page) {
    case 'jobs':
      return <JobsPage />;
    case 'job':
      return <JobPage id={route.id} />;
    case 'root':
      return <RootPage outputRoot={route.outputRoot} />;
    case 'identity':
      return <IdentityPage id={route.id} />;
  }
}

export function App() {
  const [route, setRoute] = useState(() => parseRoute(location.search));
  const [needToken, setNeedToken] = useState(false);
  // Bumped when the token changes, so the page loads again with it.
  const [session, setSession] = useState(0);
  const [rootDraft, setRootDraft] = useState('');

  useEffect(() => onRouteChange(() => setRoute(parseRoute(location.search))), []);
  useEffect(() => onAuthNeeded(() => setNeedToken(true)), []);

  return (
    <>
      <header class="top">
        <Link to={{ page: 'jobs' }} class="brand">
          facesets review
        </Link>
        <Link to={{ page: 'jobs' }}>Jobs</Link>
        <form
          class="open-root"
          onSubmit={(e) => {
            e.preventDefault();
            if (rootDraft.trim()) navigate({ page: 'root', outputRoot: rootDraft.trim() });
          }}
        >
          <input
            aria-label="output root"
            placeholder="/absolute/path/of/an/output/root"
            value={rootDraft}
            onInput={(e) => setRootDraft(e.currentTarget.value)}
          />
          <button type="submit">Open</button>
        </form>
        {storedToken() !== null ? (
          <button
            type="button"
            class="link"
            onClick={() => {
              storeToken(null);
              setSession((s) => s + 1);
            }}
          >
            forget token
          </button>
        ) : null}
      </header>
      <main>
        {needToken ? (
          <TokenForm
            onSaved={() => {
              setNeedToken(false);
              setSession((s) => s + 1);
            }}
          />
        ) : (
          <CurrentPage key={`${session}:${location.search}`} route={route} />
        )}
      </main>
    </>
  );
}
