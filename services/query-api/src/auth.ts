// Read-key authentication for the query API: `Authorization: Bearer <read key>`.
import type { FastifyRequest } from 'fastify';
import { AppError, type KeyStore } from '@cdp/runtime';

export async function requireReadKey(keys: KeyStore, request: FastifyRequest): Promise<string> {
  const header = request.headers.authorization;
  const key = header?.startsWith('Bearer ') ? header.slice(7).trim() : '';
  if (!key) throw new AppError('MISSING_READ_KEY', 'a read key is required: Authorization: Bearer <read key>');
  const source = await keys.verify('read', key);
  if (!source) throw new AppError('UNKNOWN_READ_KEY', 'the read key is unknown or revoked');
  return source;
}
