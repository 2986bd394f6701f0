// Signed HTTP callbacks of manifest updates: signing, verifying, and one delivery attempt (the queue retries).
import { createHmac, timingSafeEqual } from 'node:crypto';
import { checkCallbackUrl, type CallbackPolicy } from '@facesets/shared/events/callback-url';

export const SIGNATURE_HEADER = 'X-Facesets-Signature';
export const TIMESTAMP_HEADER = 'X-Facesets-Timestamp';

/**
 * HMAC-SHA256 over `<timestamp>.<raw body>` (hex, prefixed "sha256="). The timestamp is inside the MAC so a
 * receiver that rejects old timestamps also rejects replays; it travels in X-Facesets-Timestamp (unix seconds).
 */
export function signCallback(secret: string, body: string, timestamp: number): Record<string, string> {
  const ts = String(Math.floor(timestamp));
  const mac = createHmac('sha256', secret).update(`${ts}.${body}`, 'utf8').digest('hex');
  return { [SIGNATURE_HEADER]: `sha256=${mac}`, [TIMESTAMP_HEADER]: ts };
}

/** Receiver side, for tests and for consumers: constant-time check plus a freshness window. */
export function verifyCallback(
  secret: string,
  body: string,
  headers: { signature: string | undefined; timestamp: string | undefined },
  nowSeconds: number,
  toleranceSeconds = 300,
): boolean {
  const ts = Number(headers.timestamp);
  if (!headers.signature || !Number.isFinite(ts) || Math.abs(nowSeconds - ts) > toleranceSeconds) return false;
  const want = Buffer.from(signCallback(secret, body, ts)[SIGNATURE_HEADER]!);
  const got = Buffer.from(headers.signature);
  return want.length === got.length && timingSafeEqual(want, got);
}

export interface DeliverOptions {
  /** Checked again before every delivery: a name may resolve to an internal address by now. */
  policy?: CallbackPolicy;
  timeoutMs?: number;
  fetch?: typeof fetch;
  now?: () => number;
}

/** POSTs the body once; throws on a network error, a timeout or a non-2xx answer, so the queue retries. */
export async function deliverCallback(
  url: string,
  body: string,
  secret: string | undefined,
  opts: DeliverOptions = {},
): Promise<{ status: number }> {
  // A refused URL throws CallbackUrlError (never retried); a lookup failure throws a plain Error (retried).
  if (opts.policy) await checkCallbackUrl(url, opts.policy);
  const now = opts.now ?? Date.now;
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'facesets-callback/1',
    ...(secret ? signCallback(secret, body, now() / 1000) : {}),
  };
  let res: Response;
  try {
    res = await (opts.fetch ?? fetch)(url, {
      method: 'POST',
      headers,
      body,
      signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000),
      redirect: 'error',
    });
  } catch (err) {
    throw new Error(`callback to ${url} failed: ${(err as Error).message}`, { cause: err });
  }
  // The receiver's answer is not read beyond its status; drain it so the socket can be reused.
  await res.arrayBuffer().catch(() => undefined);
  if (res.status < 200 || res.status >= 300) throw new Error(`callback to ${url} answered HTTP ${res.status}`);
  return { status: res.status };
}
