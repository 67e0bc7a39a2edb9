// Small HTTP helpers for suites: Segment-style Basic auth for ingest, Bearer for the query API.
import { createServer, type AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';

/** A port free on 127.0.0.1 now, for a process about to listen on it. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export function basicAuth(writeKey: string): string {
  return `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`;
}

export interface JsonResponse {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

async function asJson(response: Response): Promise<JsonResponse> {
  const text = await response.text();
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = { raw: text };
  }
  return { status: response.status, headers: response.headers, body };
}

export async function send(
  baseUrl: string,
  path: string,
  body: unknown,
  options: {
    writeKey?: string;
    gzip?: boolean;
    contentType?: string;
    raw?: string | Buffer;
    headers?: Record<string, string>;
  } = {},
): Promise<JsonResponse> {
  const headers: Record<string, string> = {
    'content-type': options.contentType ?? 'application/json',
    ...options.headers,
  };
  if (options.writeKey) headers.authorization = basicAuth(options.writeKey);
  let payload: string | Buffer = options.raw ?? JSON.stringify(body);
  if (options.gzip) {
    payload = gzipSync(payload);
    headers['content-encoding'] = 'gzip';
  }
  return asJson(await fetch(`${baseUrl}${path}`, { method: 'POST', headers, body: payload }));
}

export async function read(baseUrl: string, path: string, readKey?: string): Promise<JsonResponse> {
  const headers: Record<string, string> = readKey ? { authorization: `Bearer ${readKey}` } : {};
  return asJson(await fetch(`${baseUrl}${path}`, { headers }));
}

/** A metric's value in a Prometheus text page, summed over its labels; 0 while it has no sample. */
export function metricOf(text: string, name: string): number {
  return [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))].reduce(
    (sum, match) => sum + Number(match[1]),
    0,
  );
}

/** A platform's /metrics page, or null when it does not answer within `timeoutMs` (a process down or stalled). */
export async function metricsPage(baseUrl: string, timeoutMs: number): Promise<string | null> {
  return fetch(`${baseUrl}/metrics`, { signal: AbortSignal.timeout(timeoutMs) })
    .then((response) => response.text())
    .catch(() => null);
}

/** A counter's value on a platform's /metrics page, summed over its labels; 0 while it has no sample. */
export async function counterOf(baseUrl: string, name: string): Promise<number> {
  return metricOf(await (await fetch(`${baseUrl}/metrics`)).text(), name);
}

/** Every outcome the resolver counts for an event it has read: written, or dropped or parked for a reason. */
const resolverOutcomes = [
  'cdp_resolver_events_written_total',
  'cdp_resolver_events_duplicate_total',
  'cdp_resolver_events_suppressed_total',
  'cdp_resolver_events_without_consent_total',
  'cdp_resolver_events_dead_lettered_total',
];

/** How many events the resolver has finished with, whatever became of them. */
export async function eventsHandled(baseUrl: string): Promise<number> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  return resolverOutcomes.reduce(
    (sum, name) => sum + Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1] ?? 0),
    0,
  );
}
