// The write key of an ingest request (HTTP Basic username for Segment SDKs, or `writeKey` in the body for browsers), and what it may do.
import type { FastifyRequest } from 'fastify';
import { AppError, allows, missingScope, type KeyStore } from '@cdp/runtime';

/** The write key of the HTTP Basic header (Segment SDKs), readable before the body is. */
export function headerWriteKeyOf(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (!header?.startsWith('Basic ')) return null;
  const username = Buffer.from(header.slice(6), 'base64').toString('utf8').split(':')[0];
  return username || null;
}

export function writeKeyOf(request: FastifyRequest): string | null {
  const fromHeader = headerWriteKeyOf(request);
  if (fromHeader) return fromHeader;
  const body = request.body as Record<string, unknown> | null | undefined;
  if (body && typeof body === 'object' && typeof body.writeKey === 'string' && body.writeKey) return body.writeKey;
  return null;
}

export interface WriteGrant {
  source: string;
  /** Whether the key holds `trusted`: its events' emails and phones may link profiles. */
  trusted: boolean;
}

/** The source of a key that may send events: a 401 for a key that is unknown, revoked or expired, a 403 for one without the write scope. */
export async function verifyWriteKey(keys: KeyStore, key: string): Promise<WriteGrant> {
  const grant = await keys.check(key);
  if (!grant) throw new AppError('UNKNOWN_WRITE_KEY', 'the write key is unknown, revoked or expired');
  if (!allows(grant, 'write')) throw missingScope('write', 'sending events');
  return { source: grant.source, trusted: allows(grant, 'trusted') };
}
