// Sends the demo through the public tracking API: /v1/batch with the write key, a few batches in flight, retrying when asked to.
import { setTimeout as sleep } from 'node:timers/promises';
import { demoOptionProblems, generateDemo } from './generate';

export interface SendDemoOptions {
  /** Base URL of the platform, e.g. http://127.0.0.1:8080 */
  url: string;
  writeKey: string;
  customers: number;
  months: number;
  seed: number;
  /** The end of the history, epoch ms; default the moment of the call. */
  now?: number;
  onProgress?: (sent: number, total: number) => void;
  signal?: AbortSignal;
  /** Batches in flight at once; default 4. */
  concurrency?: number;
}

export interface SendDemoResult {
  messages: number;
  customers: number;
}

export type DemoSendErrorCode = 'INVALID_OPTIONS' | 'UNREACHABLE' | 'REFUSED' | 'GAVE_UP';

/** Why a demo could not be sent, with the API's own message when it answered. */
export type DemoSendError = Error & { code: DemoSendErrorCode; status?: number };

function demoSendError(code: DemoSendErrorCode, message: string, status?: number): DemoSendError {
  return Object.assign(new Error(message), { code, ...(status === undefined ? {} : { status }) });
}

const codes: Record<DemoSendErrorCode, true> = { INVALID_OPTIONS: true, UNREACHABLE: true, REFUSED: true, GAVE_UP: true };

export function isDemoSendError(error: unknown): error is DemoSendError {
  const code = error instanceof Error ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' && code in codes;
}

/** Answers worth waiting for: the API is busy (429, 503) or a proxy in front of it is (502, 504). */
const retryable = new Set([429, 502, 503, 504]);
const maxAttempts = 20;
const maxWaitMs = 30_000;

/** Retry-After in seconds or as an HTTP date; null when absent or unreadable. */
function retryAfterMs(header: string | null, now = Date.now()): number | null {
  if (!header) return null;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds * 1000, maxWaitMs);
  const date = Date.parse(header);
  return Number.isNaN(date) ? null : Math.min(Math.max(0, date - now), maxWaitMs);
}

const backoffMs = (attempt: number) => Math.min(250 * 2 ** (attempt - 1), maxWaitMs);

async function answerOf(response: Response): Promise<{ code?: string; message?: string; errors?: Array<{ index?: number; path?: string; message?: string }> }> {
  const text = await response.text();
  try {
    return JSON.parse(text) as { code?: string; message?: string };
  } catch {
    return { message: text.slice(0, 200) };
  }
}

function refusal(status: number, answer: Awaited<ReturnType<typeof answerOf>>): DemoSendError {
  const what = status === 401 ? 'the write key was refused' : `the tracking API refused a batch`;
  const first = answer.errors?.[0];
  const detail = first ? ` (first: event ${first.index ?? '?'} ${first.path ?? ''}: ${first.message ?? ''})` : '';
  return demoSendError('REFUSED', `${what}: ${status}${answer.code ? ` ${answer.code}` : ''}: ${answer.message ?? 'no message'}${detail}`, status);
}

/** Posts one batch body until it is accepted, waiting as the API asks on 429 / 503. */
async function post(endpoint: string, authorization: string, body: string, signal: AbortSignal): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    let response: Response;
    try {
      response = await fetch(endpoint, { method: 'POST', headers: { authorization, 'content-type': 'application/json' }, body, signal });
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      if (attempt >= 4) {
        const cause = error instanceof Error ? ((error.cause as Error | undefined)?.message ?? error.message) : String(error);
        throw demoSendError('UNREACHABLE', `could not reach ${endpoint} (${cause}); is \`cdp start\` running there?`);
      }
      await sleep(backoffMs(attempt), undefined, { signal });
      continue;
    }
    if (response.ok) {
      await response.body?.cancel();
      return;
    }
    const answer = await answerOf(response);
    if (!retryable.has(response.status)) throw refusal(response.status, answer);
    if (attempt >= maxAttempts) {
      throw demoSendError('GAVE_UP', `the tracking API stayed busy after ${maxAttempts} attempts: ${response.status} ${answer.message ?? ''}`, response.status);
    }
    await sleep(retryAfterMs(response.headers.get('retry-after')) ?? backoffMs(attempt), undefined, { signal });
  }
}

/**
 * Generates the demo and posts it to `${url}/v1/batch`. No `sentAt` is sent: ingest would then move every timestamp
 * by the time between generating and sending, and the history is meant to stay where it was put.
 */
export async function sendDemo(options: SendDemoOptions): Promise<SendDemoResult> {
  const problems = demoOptionProblems(options);
  if (problems.length > 0) throw demoSendError('INVALID_OPTIONS', `invalid demo options: ${problems.join('; ')}`);
  const now = options.now ?? Date.now();
  // Generated up front (a few seconds for thousands of customers), so progress knows the total.
  const bodies: Array<{ body: string; messages: number }> = [];
  let total = 0;
  for (const batch of generateDemo({ customers: options.customers, months: options.months, seed: options.seed, now })) {
    bodies.push({ body: JSON.stringify({ batch }), messages: batch.length });
    total += batch.length;
  }
  const endpoint = `${options.url.replace(/\/+$/, '')}/v1/batch`;
  const authorization = `Basic ${Buffer.from(`${options.writeKey}:`).toString('base64')}`;
  // One failed batch stops the others, and so does the caller's signal.
  const stop = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
  let sent = 0;
  let next = 0;
  options.onProgress?.(0, total);
  const worker = async () => {
    while (next < bodies.length) {
      signal.throwIfAborted();
      const item = bodies[next] as { body: string; messages: number };
      next += 1;
      await post(endpoint, authorization, item.body, signal);
      sent += item.messages;
      options.onProgress?.(sent, total);
    }
  };
  const workers = Array.from({ length: Math.max(1, Math.min(options.concurrency ?? 4, bodies.length)) }, () =>
    worker().catch((error: unknown) => {
      stop.abort(error);
      throw error;
    }),
  );
  const outcomes = await Promise.allSettled(workers);
  const failed = outcomes.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
  // The first failure is the cause; the others are the abort it triggered.
  if (failed) throw options.signal?.aborted ? options.signal.reason : (stop.signal.reason ?? failed.reason);
  return { messages: total, customers: options.customers };
}
