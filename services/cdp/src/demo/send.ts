// Sends the demo through the public tracking API: /v1/batch with the write key, a few batches in flight, retrying when asked to.
import { isSendError, postBatch, sendError, type SendError, type SendErrorCode } from '../send/post-batch';
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

export type DemoSendErrorCode = SendErrorCode;

/** Why a demo could not be sent, with the API's own message when it answered. */
export type DemoSendError = SendError;

export const isDemoSendError = isSendError;

/**
 * Generates the demo and posts it to `${url}/v1/batch`. No `sentAt` is sent: ingest would then move every timestamp
 * by the time between generating and sending, and the history is meant to stay where it was put.
 */
export async function sendDemo(options: SendDemoOptions): Promise<SendDemoResult> {
  const problems = demoOptionProblems(options);
  if (problems.length > 0) throw sendError('INVALID_OPTIONS', `invalid demo options: ${problems.join('; ')}`);
  const now = options.now ?? Date.now();
  // Generated up front (a few seconds for thousands of customers), so progress knows the total.
  const bodies: Array<{ body: string; messages: number }> = [];
  let total = 0;
  for (const batch of generateDemo({ customers: options.customers, months: options.months, seed: options.seed, now })) {
    bodies.push({ body: JSON.stringify({ batch }), messages: batch.length });
    total += batch.length;
  }
  const endpoint = `${options.url.replace(/\/+$/, '')}/v1/batch`;
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
      const { refused } = await postBatch(item.body, { endpoint, writeKey: options.writeKey, signal });
      // The generator makes only valid events: one refused is a mismatch with this platform, worth stopping for.
      const first = refused[0];
      if (first)
        throw sendError(
          'REFUSED',
          `the tracking API refused ${refused.length} demo event(s) (first: event ${first.index} ${first.path}: ${first.message})`,
          400,
        );
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
