// Request bodies the SDKs send: JSON, gzip-encoded JSON, and text/plain JSON from navigator.sendBeacon.
import { createGunzip } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { AppError } from '@cdp/runtime';

export function acceptSdkBodies(app: FastifyInstance): void {
  app.addHook('preParsing', async (request, _reply, payload) => {
    const encoding = request.headers['content-encoding']?.toLowerCase();
    if (!encoding || encoding === 'identity') return payload;
    if (encoding !== 'gzip') {
      throw new AppError('UNSUPPORTED_MEDIA_TYPE', `content-encoding ${encoding} is not supported; send gzip or none`);
    }
    const gunzip = createGunzip();
    let encodedLength = 0;
    payload.on('data', (chunk: Buffer) => {
      encodedLength += chunk.length;
      Object.assign(gunzip, { receivedEncodedLength: encodedLength });
    });
    payload.on('error', (error) => gunzip.destroy(error));
    // fastify reads the decompressed stream, so the body limit applies to what the gzip expands to.
    gunzip.on('error', (error) => {
      Object.assign(error, { statusCode: 400, code: 'INVALID_GZIP', message: `body is not valid gzip: ${error.message}` });
    });
    return payload.pipe(gunzip);
  });

  app.addContentTypeParser('text/plain', { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, JSON.parse(body as string));
    } catch (error) {
      done(new AppError('INVALID_JSON', `body is not valid JSON: ${(error as Error).message}`), undefined);
    }
  });
}
