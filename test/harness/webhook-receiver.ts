// A real HTTP receiver for destination tests (node:http): records every request and answers as the test scripts it.
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  headers: IncomingHttpHeaders;
  body: string;
  receivedAt: number;
}

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
