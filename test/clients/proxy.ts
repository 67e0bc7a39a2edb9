// A proxy in front of ingest that records what each SDK request looked like, and answers 503 to the first ones:
// 'refuse' answers before ingest sees the request (an overloaded server), 'lose' forwards it and then answers 503
// all the same (the acknowledgement is lost: the SDK's retry is a second copy that must not be stored twice).
import { request as httpRequest, createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

export type Fault = 'refuse' | 'lose';

export interface SeenRequest {
  method: string;
  path: string;
  status: number;
  contentType: string | undefined;
  contentEncoding: string | undefined;
  userAgent: string | undefined;
  /** The messageIds of the body: a batch's, or the single message's. */
  messageIds: string[];
}

export interface FaultyProxy {
  url: string;
  seen: SeenRequest[];
  close(): Promise<void>;
}

function messageIdsOf(body: Buffer, encoding: string | undefined): string[] {
  try {
    const text = (encoding === 'gzip' ? gunzipSync(body) : body).toString('utf8');
    const parsed = JSON.parse(text) as { batch?: Array<{ messageId?: string }>; messageId?: string };
    const messages = Array.isArray(parsed.batch) ? parsed.batch : [parsed];
    return messages.map((message) => message.messageId).filter((id): id is string => typeof id === 'string');
  } catch {
    return [];
  }
}

function forward(
  target: URL,
  method: string,
  path: string,
  headers: IncomingHttpHeaders,
  body: Buffer,
): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      // The Host header is kept, as reverse proxies do: what ingest answers with its own address names the proxy.
      { host: target.hostname, port: target.port, method, path, headers },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 502, headers: response.headers, body: Buffer.concat(chunks) }),
        );
        response.on('error', reject);
      },
    );
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

const overloaded = JSON.stringify({ code: 'OVERLOADED', message: 'the server is overloaded; retry later' });

/** Forwards to `target`; the n-th POST meets `faults[n]` (none once they run out). */
export async function startFaultyProxy(target: string, faults: Fault[] = []): Promise<FaultyProxy> {
  const upstream = new URL(target);
  const seen: SeenRequest[] = [];
  let posts = 0;
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks);
      const method = request.method ?? 'GET';
      const path = request.url ?? '/';
      const fault = method === 'POST' ? faults[posts++] : undefined;
      const record = (status: number) =>
        seen.push({
          method,
          path,
          status,
          contentType: request.headers['content-type'],
          contentEncoding: request.headers['content-encoding'],
          userAgent: request.headers['user-agent'],
          messageIds: method === 'POST' ? messageIdsOf(body, request.headers['content-encoding']) : [],
        });
      const refuse = () => {
        record(503);
        // Retry-After 1 rather than ingest's 5: the SDKs that honour it would otherwise make the suite slow.
        // With ingest's CORS header, so that a browser reads the 503 rather than a network error.
        const origin = request.headers.origin;
        response
          .writeHead(503, {
            'content-type': 'application/json',
            'retry-after': '1',
            ...(origin ? { 'access-control-allow-origin': origin } : {}),
          })
          .end(overloaded);
      };
      if (fault === 'refuse') return refuse();
      forward(upstream, method, path, request.headers, body).then(
        (answer) => {
          if (fault === 'lose') return refuse();
          record(answer.status);
          const { 'transfer-encoding': _chunked, connection: _connection, ...headers } = answer.headers;
          response.writeHead(answer.status, headers).end(answer.body);
        },
        (error: Error) => response.writeHead(502).end(error.message),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The POSTs' statuses in order, the messageIds of those answered 503, and those of those answered 200. */
export function deliveries(proxy: FaultyProxy): { statuses: number[]; faulted: string[]; delivered: Set<string> } {
  const posts = proxy.seen.filter((request) => request.method === 'POST');
  return {
    statuses: posts.map((post) => post.status),
    faulted: posts.filter((post) => post.status === 503).flatMap((post) => post.messageIds),
    delivered: new Set(posts.filter((post) => post.status === 200).flatMap((post) => post.messageIds)),
  };
}
