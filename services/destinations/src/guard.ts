// The address guard: a destination may reach public unicast addresses only, unless an allow-list names the address.
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

export interface AddressGuard {
  /** Why the address may not be reached (its range), or null when it may. */
  refusal(address: string): string | null;
  /** Resolves the URL's host and checks every address; throws a RefusedAddress naming the first refused one. */
  checkUrl(url: string): Promise<void>;
}

export class RefusedAddress extends Error {
  readonly code = 'REFUSED_ADDRESS';
  constructor(
    readonly host: string,
    readonly address: string,
    readonly range: string,
  ) {
    super(address === host ? `${host} is a ${range} address` : `${host} resolves to ${address}, a ${range} address`);
  }
}

const rangeWords: Record<string, string> = {
  loopback: 'loopback',
  private: 'private',
  linkLocal: 'link-local',
  uniqueLocal: 'private (unique local)',
  unspecified: 'unspecified',
  carrierGradeNat: 'carrier-grade NAT',
  multicast: 'multicast',
  broadcast: 'broadcast',
  reserved: 'reserved',
};

/** IPv4-mapped IPv6 addresses (::ffff:10.0.0.1) are judged as the IPv4 address they carry. */
function parse(address: string): ipaddr.IPv4 | ipaddr.IPv6 {
  const parsed = ipaddr.parse(address.replace(/^\[|\]$/g, '').replace(/%.*$/, ''));
  return parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()
    ? (parsed as ipaddr.IPv6).toIPv4Address()
    : parsed;
}

function parseAllowed(entry: string): [ipaddr.IPv4 | ipaddr.IPv6, number] {
  if (entry.includes('/')) return ipaddr.parseCIDR(entry);
  const address = ipaddr.parse(entry);
  return [address, address.kind() === 'ipv4' ? 32 : 128];
}

/** `allow`: addresses or CIDRs (`127.0.0.0/8`, `::1`) let through although their range is refused. */
export function createAddressGuard(allow: readonly string[] = []): AddressGuard {
  const allowed = allow.map(parseAllowed);
  const guard: AddressGuard = {
    refusal(address) {
      let parsed: ipaddr.IPv4 | ipaddr.IPv6;
      try {
        parsed = parse(address);
      } catch {
        return 'malformed';
      }
      if (allowed.some(([network, bits]) => network.kind() === parsed.kind() && parsed.match([network, bits] as never)))
        return null;
      const range = parsed.range();
      return range === 'unicast' ? null : (rangeWords[range] ?? range);
    },
    async checkUrl(url) {
      const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
      const addresses = isIP(host)
        ? [host]
        : (await lookup(host, { all: true, verbatim: true })).map((entry) => entry.address);
      for (const address of addresses) {
        const range = guard.refusal(address);
        if (range) throw new RefusedAddress(host, address, range);
      }
    },
  };
  return guard;
}
