// Calls to the facesets API: bearer token from localStorage, JSON bodies, If-Match versions, errors as ApiError.

const TOKEN_KEY = 'facesets.apiToken';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export function storedToken(): string | null {
  try {
    return localStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export function storeToken(token: string | null): void {
  if (token) localStorage.setItem(TOKEN_KEY, token);
  else localStorage.removeItem(TOKEN_KEY);
}

/** Listeners told when the API refuses the token (401), so the page can ask for one. */
const authListeners = new Set<() => void>();
export function onAuthNeeded(listener: () => void): () => void {
  authListeners.add(listener);
  return () => authListeners.delete(listener);
}

export function authHeaders(): Record<string, string> {
  const token = storedToken();
  return token ? { authorization: `Bearer ${token}` } : {};
}

/** The API's error shape is {statusCode, error, message}; anything else is shown as its status line. */
async function errorOf(res: Response): Promise<ApiError> {
  let message = `${res.status} ${res.statusText}`;
  try {
    const body = (await res.json()) as { message?: unknown };
    if (typeof body.message === 'string') message = body.message;
  } catch {
    // not JSON: keep the status line
  }
  if (res.status === 401) authListeners.forEach((l) => l());
  return new ApiError(res.status, message);
}

export interface CallOptions {
  body?: unknown;
  /** The identity version the change is based on; the API answers 409 when it moved on. */
  ifMatch?: number | string;
  signal?: AbortSignal;
}

export async function call<T>(method: string, path: string, opts: CallOptions = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json', ...authHeaders() };
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  if (opts.ifMatch !== undefined) headers['if-match'] = String(opts.ifMatch);
  const res = await fetch(path, {
    method,
    headers,
    body: opts.body === undefined ? null : JSON.stringify(opts.body),
    signal: opts.signal ?? null,
  });
  if (!res.ok) throw await errorOf(res);
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

export const get = <T>(path: string, signal?: AbortSignal) => call<T>('GET', path, signal ? { signal } : {});

/** A path with its query string; undefined and empty values are left out. */
export function withQuery(path: string, query: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

/** Every page of a cursor-paged list. */
export async function getAll<T>(path: string, query: Record<string, string | number | undefined>, signal?: AbortSignal): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | undefined;
  do {
    const page = await get<{ items: T[]; nextCursor: string | null }>(withQuery(path, { ...query, cursor }), signal);
    out.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return out;
}

/** Downloads `path` with the token as a file named `name` (a link cannot carry an Authorization header). */
export async function download(path: string, name: string): Promise<void> {
  const res = await fetch(path, { headers: authHeaders() });
  if (!res.ok) throw await errorOf(res);
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** Fetches an image with the token and answers an object URL (img src cannot carry an Authorization header). */
export async function imageUrl(path: string, signal?: AbortSignal): Promise<string> {
  const res = await fetch(path, { headers: authHeaders(), signal: signal ?? null });
  if (!res.ok) throw await errorOf(res);
  return URL.createObjectURL(await res.blob());
}
