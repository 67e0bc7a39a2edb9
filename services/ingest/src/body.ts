// Request bodies the SDKs send: JSON, gzip-encoded JSON, text/plain JSON from navigator.sendBeacon, and JSON that
// RudderStack's Node SDK labels as a form.
import { isUtf8 } from 'node:buffer';
import { createGunzip } from 'node:zlib';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '@cdp/runtime';

/**
 * Strict UTF-8 (checked, then decoded without a byte order mark, as a fatal TextDecoder would, at a fraction of
 * its cost), then plain JSON.parse. JSON.parse makes `__proto__` an own property and never touches a prototype;
 * such keys are refused per event later (see inspect.ts), so one poisoned event does not sink a whole batch.
 */
export function parseJsonBody(body: Buffer): unknown {
  if (!isUtf8(body)) throw new AppError('INVALID_JSON', 'body is not valid UTF-8; JSON must be sent as UTF-8');
  const decoded = body.toString('utf8');
  const text = decoded.charCodeAt(0) === 0xfeff ? decoded.slice(1) : decoded;
  if (text.trim() === '') throw new AppError('INVALID_JSON', 'body is empty; send a JSON object');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new AppError('INVALID_JSON', `body is not valid JSON: ${(error as Error).message}`);
  }
}

const bodyBytes = new WeakMap<FastifyRequest, number>();

/** Size of the decoded (after gzip) body of a request, when it had one. */
export function bodyBytesOf(request: FastifyRequest): number | undefined {
  return bodyBytes.get(request);
}

function parser(request: FastifyRequest, body: Buffer, done: (error: Error | null, body?: unknown) => void): void {
  bodyBytes.set(request, body.length);
  try {
    done(null, parseJsonBody(body));
  } catch (error) {
    done(error as Error, undefined);
  }
}

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
      Object.assign(error, {
        statusCode: 400,
        code: 'INVALID_GZIP',
        message: `body is not valid gzip: ${error.message}`,
      });
    });
    return payload.pipe(gunzip);
  });

  // Both replace fastify's defaults inside this plugin only; sendBeacon sends `text/plain;charset=UTF-8`.
  app.addContentTypeParser(['application/json', 'text/plain'], { parseAs: 'buffer' }, parser);
  // RudderStack's Node SDK posts its gzipped JSON through axios, which labels a Buffer as a form. A body that is JSON
  // is read as JSON whatever its label says; a real form is refused as before.
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'buffer' },
    (request, body: Buffer, done) => {
      const first = body.subarray(0, 64).toString('utf8').trimStart()[0];
      if (first === '{' || first === '[') return parser(request, body, done);
      done(
        new AppError(
          'UNSUPPORTED_MEDIA_TYPE',
          'form bodies are not supported; send application/json or text/plain holding JSON',
        ),
        undefined,
      );
    },
  );
}
