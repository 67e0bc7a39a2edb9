// Finds the write key of an ingest request: HTTP Basic username (Segment SDKs) or `writeKey` in the body (browsers).
import type { FastifyRequest } from 'fastify';

export function writeKeyOf(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (header?.startsWith('Basic ')) {
    const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
    const username = decoded.split(':')[0];
    if (username) return username;
  }
  const body = request.body as Record<string, unknown> | null | undefined;
  if (body && typeof body === 'object' && typeof body.writeKey === 'string' && body.writeKey) return body.writeKey;
  return null;
}
