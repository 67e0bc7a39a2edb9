// A real HTTP receiver for destination tests (node:http): records every request and answers as the test scripts it.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  headers: IncomingHttpHeaders;
  body: string;
  receivedAt: number;
}

export type Json = Record<string, unknown>;

/** A request's body as JSON. */
export const json = (request: ReceivedRequest) => JSON.parse(request.body) as Json;

/** What to answer the nth request (0-based): a status and headers, after an optional wait the test controls. */
export type Answering = (
  index: number,
  request: ReceivedRequest,
) => { status: number; headers?: Record<string, string>; hold?: Promise<void> };

export interface WebhookReceiver {
  url: string;
  requests: ReceivedRequest[];
  /** Requests whose answer is being held right now. */
  holding(): number;
  close(): Promise<void>;
}

export async function startReceiver(answering: Answering = () => ({ status: 200 })): Promise<WebhookReceiver> {
  const requests: ReceivedRequest[] = [];
  let held = 0;
  const answer = async (response: ServerResponse, request: ReceivedRequest, index: number) => {
    const { status, headers, hold } = answering(index, request);
    if (hold) {
      held += 1;
      await hold;
      held -= 1;
    }
    response.writeHead(status, { 'content-type': 'text/plain', ...headers });
    response.end(status < 300 ? 'ok' : `failed with ${status}`);
  };
  const server = createServer((incoming, response) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const request = {
        headers: incoming.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        receivedAt: Date.now(),
      };
      requests.push(request);
      void answer(response, request, requests.length - 1);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    requests,
    holding: () => held,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** What a receiver does with `X-CDP-Signature: t=…,v1=…`: HMAC-SHA256 of "<t>.<raw body>" under the shared secret. */
export function verifiedAsAReceiverWould(secret: string, request: ReceivedRequest): boolean {
  const header = String(request.headers['x-cdp-signature'] ?? '');
  const { t, v1 } = Object.fromEntries(header.split(',').map((part) => part.split('='))) as { t?: string; v1?: string };
  if (!t || !v1 || Math.abs(Date.now() / 1000 - Number(t)) > 300) return false;
  const expected = createHmac('sha256', secret).update(`${t}.${request.body}`).digest();
  const given = Buffer.from(v1, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
