import { BlockList, isIP } from 'node:net';

/**
 * SSRF rules for webhook endpoint URLs. A URL is checked when it is registered (its shape, and every
 * address its host resolves to) and again on every connection: the dispatcher resolves the host
 * itself, refuses the connection if the address is not public, and connects to exactly the address it
 * checked (no second lookup a DNS rebinding could answer differently). Redirects are never followed.
 *
 * `allowPrivate` (WEBHOOK_ALLOW_PRIVATE_TARGETS, local development and tests only) lets loopback,
 * private and link-local targets through; `allowHttp` (WEBHOOK_ALLOW_HTTP) plain http.
 */
export interface TargetPolicy {
  allowPrivate: boolean;
  allowHttp: boolean;
}

export const MAX_URL_LENGTH = 2048;

const blocked = new BlockList();
// IPv4: "this" network, private (RFC 1918), shared (CGNAT), loopback, link-local (cloud metadata
// lives at 169.254.169.254), IETF protocol assignments, documentation, benchmarking, multicast,
// reserved and broadcast.
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  blocked.addSubnet(net, prefix, 'ipv4');
}
// IPv6: unspecified, loopback, discard, documentation, unique-local, link-local, site-local
// (deprecated), multicast. IPv4-mapped and NAT64 addresses are checked as the IPv4 address inside.
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
] as const) {
  blocked.addSubnet(net, prefix, 'ipv6');
}

/** The IPv4 address embedded in an IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible or NAT64 IPv6 address. */
function embeddedIpv4(address: string): string | undefined {
  const lower = address.toLowerCase();
  const dotted = /^(?:::ffff:|::|64:ff9b::)(\d{1,3}(?:\.\d{1,3}){3})$/.exec(lower);
  if (dotted) return dotted[1];
  const hex = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  if (hex) {
    const hi = Number.parseInt(hex[1]!, 16);
    const lo = Number.parseInt(hex[2]!, 16);
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  return undefined;
}

/** True when `address` (an IP literal) is loopback, private, link-local or otherwise not a public unicast address. */
export function isBlockedAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return blocked.check(address, 'ipv4');
  if (family === 6) {
    const inner = embeddedIpv4(address);
    if (inner !== undefined) return isIP(inner) !== 4 || blocked.check(inner, 'ipv4');
    return blocked.check(address, 'ipv6');
  }
  return true; // not an IP address at all: never connect to it
}

export type UrlCheck =
  | { ok: true; url: URL; host: string; literal: boolean }
  | { ok: false; problem: string };

/** The URL's hostname without IPv6 brackets. */
function bareHost(url: URL): string {
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
}

/**
 * The checks that need no DNS: absolute http(s) URL, no credentials, no fragment, a host, and
 * (for an IP literal, or a name that always means this machine) an allowed address.
 */
export function checkTargetUrl(raw: string, policy: TargetPolicy): UrlCheck {
  if (raw.length > MAX_URL_LENGTH) return { ok: false, problem: `at most ${MAX_URL_LENGTH} characters` };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, problem: 'not an absolute URL' };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    return { ok: false, problem: 'https URL expected' };
  if (url.protocol === 'http:' && !policy.allowHttp)
    return { ok: false, problem: 'https URL expected (plain http is not allowed)' };
  if (url.username || url.password) return { ok: false, problem: 'credentials in the URL are not allowed' };
  if (url.hash) return { ok: false, problem: 'a fragment is not allowed' };
  const host = bareHost(url);
  if (!host) return { ok: false, problem: 'a host is required' };
  const literal = isIP(host) !== 0;
  if (!policy.allowPrivate) {
    if (literal && isBlockedAddress(host)) return { ok: false, problem: `${host} is not a public address` };
    const name = host.toLowerCase().replace(/\.$/, '');
    if (name === 'localhost' || name.endsWith('.localhost') || (!literal && !name.includes('.'))) {
      return { ok: false, problem: `${host} is not a public host name` };
    }
  }
  return { ok: true, url, host, literal };
}

/** The resolved addresses a connection may use: all of them public, unless private targets are allowed. */
export function checkResolvedAddresses(
  host: string,
  addresses: readonly string[],
  policy: Pick<TargetPolicy, 'allowPrivate'>,
): { ok: true } | { ok: false; problem: string } {
  if (addresses.length === 0) return { ok: false, problem: `${host} does not resolve` };
  if (policy.allowPrivate) return { ok: true };
  const bad = addresses.find(isBlockedAddress);
  return bad === undefined
    ? { ok: true }
    : { ok: false, problem: `${host} resolves to ${bad}, not a public address` };
}
