// Posts one /v1/batch body to the tracking API until it is accepted, waiting as the API asks; shared by `cdp demo` and `cdp import`.
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';

const gzip = promisify(gzipCallback);

export type SendErrorCode = 'INVALID_OPTIONS' | 'UNREACHABLE' | 'REFUSED' | 'GAVE_UP';

/** Why a batch could not be sent, with the API's own message when it answered. */
export type SendError = Error & { code: SendErrorCode; status?: number };

export function sendError(code: SendErrorCode, message: string, status?: number): SendError {
  return Object.assign(new Error(message), { code, ...(status === undefined ? {} : { status }) });
}

const codes: Record<SendErrorCode, true> = { INVALID_OPTIONS: true, UNREACHABLE: true, REFUSED: true, GAVE_UP: true };

export function isSendError(error: unknown): error is SendError {
  const code = error instanceof Error ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' && code in codes;
}

/** One event of a batch the API refused, as ingest lists it in a 400 `INVALID_EVENT`. */
export interface EventProblem {
  index: number;
  path: string;
  message: string;
}

export interface PostBatchOptions {
  /** `${url}/v1/batch` */
  endpoint: string;
  writeKey: string;
  signal?: AbortSignal;
  /** Gzip the body, as RudderStack's SDKs do: less to carry, a little more work on each side. Default false. */
  gzip?: boolean;
  /** Attempts before a busy API or an unreachable one stops the send; default 20 busy answers, 4 network failures. */
  maxAttempts?: number;
  maxNetworkAttempts?: number;
  /** Told before each wait, so a command can say why it is not moving. */
  onRetry?: (reason: string, waitMs: number, attempt: number) => void;
}

/** Accepted whole, or accepted but for the events listed (ingest keeps the valid events of a batch). */
export type PostOutcome = { refused: EventProblem[] };

/** Answers worth waiting for: a timeout, the API busy (429, 503), a proxy in front of it (502, 504), or a server fault. */
const retryable = (status: number) => status === 408 || status === 429 || status >= 500;
const maxWaitMs = 30_000;

/** Retry-After in seconds or as an HTTP date; null when absent or unreadable. */
export function retryAfterMs(header: string | null, now = Date.now()): number | null {
  if (!header) return null;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds * 1000, maxWaitMs);
  const date = Date.parse(header);
  return Number.isNaN(date) ? null : Math.min(Math.max(0, date - now), maxWaitMs);
}

export const backoffMs = (attempt: number) => Math.min(250 * 2 ** (attempt - 1), maxWaitMs);

interface Answer {
  code?: string;
  message?: string;
  errors?: Array<{ index?: number; path?: string; message?: string }>;
}

async function answerOf(response: Response): Promise<Answer> {
  const text = await response.text();
  try {
    return JSON.parse(text) as Answer;
  } catch {
    return { message: text.slice(0, 200) };
  }
}

function refusal(status: number, answer: Answer): SendError {
  const what = status === 401 ? 'the write key was refused' : `the tracking API refused a batch`;
  const first = answer.errors?.[0];
  const detail = first ? ` (first: event ${first.index ?? '?'} ${first.path ?? ''}: ${first.message ?? ''})` : '';
  return sendError(
    'REFUSED',
    `${what}: ${status}${answer.code ? ` ${answer.code}` : ''}: ${answer.message ?? 'no message'}${detail}`,
    status,
  );
}

/** The per-event problems of a 400 INVALID_EVENT, or null when the answer is about the whole request. */
function eventProblems(status: number, answer: Answer): EventProblem[] | null {
  if (status !== 400 || answer.code !== 'INVALID_EVENT' || !Array.isArray(answer.errors)) return null;
  return answer.errors
    .filter((error) => Number.isInteger(error.index))
    .map((error) => ({ index: error.index as number, path: error.path ?? '', message: error.message ?? 'invalid' }));
}

/**
 * Posts `body` (a JSON `{ batch: [...] }`) until the API has it: retries timeouts, 429 and 5xx answers (waiting as
 * Retry-After says, else backing off) and network failures, up to a limit. A 400 that lists events comes back as
 * the refused events (the others were accepted); any other 4xx is a refusal of the whole request and throws.
 */
export async function postBatch(body: string, options: PostBatchOptions): Promise<PostOutcome> {
  const signal = options.signal ?? new AbortController().signal;
  const maxAttempts = options.maxAttempts ?? 20;
  const maxNetworkAttempts = options.maxNetworkAttempts ?? 4;
  const headers: Record<string, string> = {
    authorization: `Basic ${Buffer.from(`${options.writeKey}:`).toString('base64')}`,
    'content-type': 'application/json',
  };
  // Encoded once, here: fetch would otherwise check a string body for lone surrogates and encode it on every attempt.
  let payload = Buffer.from(body);
  if (options.gzip) {
    payload = await gzip(payload, { level: 1 });
    headers['content-encoding'] = 'gzip';
  }
  let networkFailures = 0;
  for (let attempt = 1; ; attempt += 1) {
    let response: Response;
    try {
      response = await fetch(options.endpoint, { method: 'POST', headers, body: payload, signal });
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      networkFailures += 1;
      const cause =
        error instanceof Error ? ((error.cause as Error | undefined)?.message ?? error.message) : String(error);
      if (networkFailures >= maxNetworkAttempts) {
        throw sendError(
          'UNREACHABLE',
          `could not reach ${options.endpoint} after ${networkFailures} attempts (${cause}); is \`cdp start\` running there?`,
        );
      }
      options.onRetry?.(`could not reach the API (${cause})`, backoffMs(attempt), attempt);
      await sleep(backoffMs(attempt), undefined, { signal });
      continue;
    }
    if (response.ok) {
      await response.body?.cancel();
      return { refused: [] };
    }
    const answer = await answerOf(response);
    const refused = eventProblems(response.status, answer);
    if (refused) return { refused };
    if (!retryable(response.status)) throw refusal(response.status, answer);
    if (attempt >= maxAttempts) {
      throw sendError(
        'GAVE_UP',
        `the tracking API stayed busy after ${attempt} attempts: ${response.status} ${answer.message ?? ''}`.trim(),
        response.status,
      );
    }
    const waitMs = retryAfterMs(response.headers.get('retry-after')) ?? backoffMs(attempt);
    options.onRetry?.(`the API answered ${response.status}${answer.code ? ` ${answer.code}` : ''}`, waitMs, attempt);
    await sleep(waitMs, undefined, { signal });
  }
}
