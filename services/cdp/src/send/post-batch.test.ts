// Posting a batch: waiting as the API asks, giving up after a limit, per-event refusals handed back, whole refusals thrown.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { isSendError, postBatch } from './post-batch';

type Answer = { status: number; body?: unknown; headers?: Record<string, string> };

let server: Server | null = null;
const received: Array<{ headers: IncomingMessage['headers']; body: Buffer }> = [];

/** A stand-in API answering each request with the next answer (the last one repeats). */
async function api(answers: Answer[]): Promise<string> {
  received.length = 0;
  server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ headers: request.headers, body: Buffer.concat(chunks) });
      const answer = answers[Math.min(received.length - 1, answers.length - 1)] as Answer;
      response.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
      response.end(JSON.stringify(answer.body ?? { success: true }));
    });
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/batch`;
}

afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve));
  server = null;
});

const body = JSON.stringify({ batch: [{ type: 'track', userId: 'u1', event: 'E' }] });

describe('postBatch', () => {
  it('waits as Retry-After says on 429 and 503, then returns once accepted', async () => {
    const endpoint = await api([
      { status: 429, headers: { 'retry-after': '0' } },
      { status: 503, headers: { 'retry-after': '0' } },
      { status: 200 },
    ]);
    const waits: number[] = [];
    expect(await postBatch(body, { endpoint, writeKey: 'wk', onRetry: (_, waitMs) => waits.push(waitMs) })).toEqual({
      refused: [],
    });
    expect(waits).toEqual([0, 0]);
    expect(received).toHaveLength(3);
    expect(received[0]?.headers.authorization).toBe(`Basic ${Buffer.from('wk:').toString('base64')}`);
  });

  it('gives up with GAVE_UP after the attempts allowed', async () => {
    const endpoint = await api([
      { status: 503, headers: { 'retry-after': '0' }, body: { code: 'OVERLOADED', message: 'busy' } },
    ]);
    const failure = await postBatch(body, { endpoint, writeKey: 'wk', maxAttempts: 3 }).catch(
      (error: unknown) => error,
    );
    expect(isSendError(failure) && failure.code).toBe('GAVE_UP');
    expect(received).toHaveLength(3);
  });

  it('hands back the events a 400 INVALID_EVENT lists, the rest being accepted', async () => {
    const errors = [{ index: 0, path: 'timestamp', message: 'before 2000-01-01' }];
    const endpoint = await api([
      { status: 400, body: { code: 'INVALID_EVENT', message: '1 of 1 events are invalid', errors } },
    ]);
    expect(await postBatch(body, { endpoint, writeKey: 'wk' })).toEqual({ refused: errors });
  });

  it('throws at once on a refusal of the whole request, naming it', async () => {
    const endpoint = await api([{ status: 401, body: { code: 'UNKNOWN_WRITE_KEY', message: 'unknown write key' } }]);
    const failure = await postBatch(body, { endpoint, writeKey: 'wk' }).catch((error: unknown) => error);
    expect(isSendError(failure) && [failure.code, failure.message]).toEqual([
      'REFUSED',
      'the write key was refused: 401 UNKNOWN_WRITE_KEY: unknown write key',
    ]);
    expect(received).toHaveLength(1);
  });

  it('gzips the body when asked', async () => {
    const endpoint = await api([{ status: 200 }]);
    await postBatch(body, { endpoint, writeKey: 'wk', gzip: true });
    expect(received[0]?.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(received[0]?.body as Buffer).toString()).toBe(body);
  });

  it('stops with UNREACHABLE when nothing answers', async () => {
    const endpoint = await api([{ status: 200 }]);
    await new Promise((resolve) => server?.close(resolve));
    const failure = await postBatch(body, { endpoint, writeKey: 'wk', maxNetworkAttempts: 2 }).catch(
      (error: unknown) => error,
    );
    expect(isSendError(failure) && failure.code).toBe('UNREACHABLE');
  });
});
