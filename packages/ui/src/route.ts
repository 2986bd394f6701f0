// Where the page is, read from and written to the query string (/ui?job=…, ?outputRoot=…, ?identity=…).

export type Route =
  | { page: 'jobs' }
  | { page: 'job'; id: string }
  | { page: 'root'; outputRoot: string }
  | { page: 'identity'; id: string };

export function parseRoute(search: string): Route {
  const q = new URLSearchParams(search);
  const identity = q.get('identity');
  if (identity) return { page: 'identity', id: identity };
  const job = q.get('job');
  if (job) return { page: 'job', id: job };
  const outputRoot = q.get('outputRoot');
  if (outputRoot) return { page: 'root', outputRoot };
  return { page: 'jobs' };
}

export function hrefOf(route: Route): string {
  switch (route.page) {
    case 'jobs':
      return '/ui';
    case 'job':
      return `/ui?job=${encodeURIComponent(route.id)}`;
    case 'root':
      return `/ui?outputRoot=${encodeURIComponent(route.outputRoot)}`;
    case 'identity':
      return `/ui?identity=${encodeURIComponent(route.id)}`;
  }
}

const listeners = new Set<() => void>();
export function onRouteChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
if (typeof window !== 'undefined') window.addEventListener('popstate', () => listeners.forEach((l) => l()));

export function navigate(route: Route): void {
  history.pushState(null, '', hrefOf(route));
  window.scrollTo(0, 0);
  listeners.forEach((l) => l());
}
