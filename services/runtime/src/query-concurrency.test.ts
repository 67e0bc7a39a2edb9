// The per-key concurrency limit over real HTTP: a request whose client gave up before the answer keeps its place while
// its handler still runs and gives it back once the server is done with it, as a finished one does, so a key is never
// locked out by its own timeouts nor able to pile up work behind them.
import Fastify, { type FastifyInstance } from 'fastify';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KeyGrant } from './keys';
import { limitConcurrency } from './query-limits';

describe('per-key concurrency limit', () => {
  let app: FastifyInstance;
  let url: string;
  let started: () => void = () => undefined;
  let release: () => void = () => undefined;
  let finished: Promise<void> = Promise.resolve();

  beforeAll(async () => {
    app = Fastify();
    app.decorateRequest('grant', null);
    // Any key is granted here: the limit counts per key, whatever it grants.
    app.addHook('onRequest', async (request) => {
      request.grant = { scopes: ['profiles'] } as unknown as KeyGrant;
    });
    limitConcurrency(app, { concurrencyPerKey: 1, applies: () => true, what: 'requests' });
    app.setErrorHandler((error: Error & { code?: string }, _request, reply) =>
      reply.status(error.code === 'RATE_LIMITED' ? 429 : 500).send({ code: error.code }),
    );
    app.get('/held', async (_request, reply) => {
      let done: () => void = () => undefined;
      finished = new Promise((resolve) => (done = resolve));
      reply.raw.once('close', () => done());
      await new Promise<void>((resolve) => {
        release = resolve;
        started();
      });
      return { held: true };
    });
    app.get('/quick', async () => ({ quick: true }));
    await app.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await app?.close();
  });

  const get = (path: string, signal?: AbortSignal) =>
    fetch(`${url}${path}`, { headers: { authorization: 'Bearer rk_one' }, signal }).then((response) => response.status);

  it('holds the place while a request runs, even after its client has gone, and gives it back when it answers', async () => {
    const running = new Promise<void>((resolve) => (started = resolve));
    const abort = new AbortController();
    const abandoned = get('/held', abort.signal).catch((error: Error) => error.name);
    await running;
    // The key's one place is taken; another key is not.
    expect(await get('/quick')).toBe(429);
    expect(
      await fetch(`${url}/quick`, { headers: { authorization: 'Bearer rk_two' } }).then((response) => response.status),
    ).toBe(200);
    abort.abort();
    expect(await abandoned).toBe('AbortError');
    // The server has seen the connection go, but its handler still runs: the place stays taken until it answers.
    await finished;
    expect(await get('/quick')).toBe(429);
    release();
    await expect.poll(() => get('/quick')).toBe(200);
    expect(await get('/quick')).toBe(200);
  });

  it('gives the place back after an injected request too', async () => {
    for (let index = 0; index < 3; index += 1)
      expect((await app.inject({ url: '/quick', headers: { authorization: 'Bearer rk_three' } })).statusCode).toBe(200);
  });
});
