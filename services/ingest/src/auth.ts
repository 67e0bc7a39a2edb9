// Finds the write key of an ingest request: HTTP Basic username (Segment SDKs) or `writeKey` in the body (browsers).
import type { FastifyRequest } from 'fastify';

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
