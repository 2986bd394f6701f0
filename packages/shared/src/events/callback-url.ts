// Callback URL policy: http(s) only, no credentials, and no loopback, private, link-local or metadata address after
// DNS resolution, unless the operator allows the host (CALLBACK_ALLOW_HOSTS).
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/** A callback URL that must not be used; `message` names the field and the reason. */
export class CallbackUrlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CallbackUrlError';
  }
}

export interface CallbackPolicy {
  /** Host names, IP literals or CIDR ranges that may be called whatever they resolve to; `*` allows every host. */
  allowHosts: readonly string[];
}

export type Resolve = (host: string) => Promise<string[]>;

const defaultResolve: Resolve = async (host) => (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);

/** Names of cloud metadata services that may not resolve publicly but do inside a cloud. */
const METADATA_NAMES = new Set(['metadata.google.internal', 'metadata', 'instance-data', 'instance-data.ec2.internal']);

const INTERNAL = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, cloud metadata (169.254.169.254)
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 3], // multicast, reserved, broadcast
] as const) {
  INTERNAL.addSubnet(net, bits, 'ipv4');
}
for (const [net, bits] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7], // unique local (fd00:ec2::254 is AWS metadata over IPv6)
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  INTERNAL.addSubnet(net, bits, 'ipv6');
}

/** The IPv4 address inside an IPv4-mapped or -compatible / NAT64 IPv6 address (`::ffff:7f00:1` → 127.0.0.1). */
export function embeddedIPv4(v6: string): string | null {
  const words = expandIPv6(v6);
  if (!words) return null;
  const mapped = words.slice(0, 5).every((w) => w === 0) && (words[5] === 0xffff || words[5] === 0);
  const nat64 = words[0] === 0x64 && words[1] === 0xff9b && words.slice(2, 6).every((w) => w === 0);
  if (!mapped && !nat64) return null;
  const hi = words[6] as number;
  const lo = words[7] as number;
  return [hi >> 8, hi & 0xff, lo >> 8, lo & 0xff].join('.');
}

function expandIPv6(v6: string): number[] | null {
  let s = v6.toLowerCase().replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(s);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    s = `${s.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const fill = halves.length === 2 ? 8 - head.length - tail.length : 0;
  const words = [...head, ...Array<string>(Math.max(0, fill)).fill('0'), ...tail].map((w) => parseInt(w, 16));
  return words.length === 8 && words.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffff) ? words : null;
}

/** True for loopback, private, link-local, multicast, unspecified and metadata addresses (v4, v6, v4-in-v6). */
export function isInternalAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return INTERNAL.check(address, 'ipv4');
  if (family !== 6) return true; // not an address at all: refuse rather than guess
  const v4 = embeddedIPv4(address);
  return v4 !== null ? INTERNAL.check(v4, 'ipv4') : INTERNAL.check(address, 'ipv6');
}

function allowedBy(policy: CallbackPolicy, host: string, addresses: readonly string[]): boolean {
  for (const entry of policy.allowHosts) {
    if (entry === '*' || entry.toLowerCase() === host) return true;
    const [net, bits] = entry.split('/');
    const family = isIP(net ?? '');
    if (!family) continue;
    const list = new BlockList();
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (bits === undefined) list.addAddress(net as string, type);
    else list.addSubnet(net as string, Number(bits), type);
    if (addresses.length > 0 && addresses.every((a) => list.check(a, isIP(a) === 4 ? 'ipv4' : 'ipv6'))) return true;
  }
  return false;
}

/**
 * Checks a callback URL: the syntax and credentials, then every address its host resolves to. With `unresolved:
 * 'accept'` (at submit time) a name that does not resolve now passes; it is checked again before each delivery.
 * Returns the normalised URL; throws CallbackUrlError naming the reason; a failed DNS lookup at send time rethrows
 * (the delivery is retried).
 */
export async function checkCallbackUrl(
  raw: string,
  policy: CallbackPolicy,
  opts: { field?: string; unresolved?: 'accept' | 'throw'; resolve?: Resolve } = {},
): Promise<string> {
  const field = opts.field ?? 'callbackUrl';
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new CallbackUrlError(`${field} must be an absolute http(s) URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new CallbackUrlError(`${field} must be an absolute http(s) URL`);
  if (url.username || url.password) {
    throw new CallbackUrlError(`${field} must not carry credentials (user:password@); sign callbacks with CALLBACK_SECRET instead`);
  }
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (allowedBy(policy, host, isIP(host) ? [host] : [])) return url.toString();
  if (METADATA_NAMES.has(host)) throw new CallbackUrlError(`${field} must not point at a cloud metadata service (${host})`);
  let addresses: string[];
  if (isIP(host)) addresses = [host];
  else {
    try {
      addresses = await (opts.resolve ?? defaultResolve)(host);
    } catch (err) {
      if (opts.unresolved === 'accept') return url.toString();
      throw new Error(`${field} host ${host} does not resolve: ${(err as Error).message}`, { cause: err });
    }
  }
  if (allowedBy(policy, host, addresses)) return url.toString();
  const internal = addresses.find(isInternalAddress);
  if (internal !== undefined) {
    throw new CallbackUrlError(
      `${field} must not point at a loopback, private, link-local or metadata address (${host} is ${internal}); ` +
        'an operator can allow the host with CALLBACK_ALLOW_HOSTS',
    );
  }
  return url.toString();
}
