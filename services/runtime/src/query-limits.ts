// Limits on the reads an API request makes: how long a query may run and how much memory it may take, and how many
// requests one key may have in flight.
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ClickHouseClient } from './clickhouse';
import { AppError } from './errors';
import { errorReply, retryAfterHeader, type ResponseDoc } from './openapi';

export interface QueryLimits {
  /** ClickHouse's max_execution_time for each query, and (plus a grace) the client's own wait; 0: no limit. */
  timeoutSeconds: number;
  /** ClickHouse's max_memory_usage for each query; 0: no limit. */
  maxMemoryBytes: number;
  /**
   * How much memory a query's GROUP BY and ORDER BY may hold before they continue on disk (ClickHouse's
   * max_bytes_before_external_group_by and _sort): a question over more data is slower, not larger; 0: never.
   */
  spillBytes?: number;
  /** Requests one key may have in flight; one more is answered 429. 0: no limit. */
  concurrencyPerKey: number;
}

/** How long the client waits past max_execution_time before it gives up itself (a server that stopped answering). */
const clientGraceMs = 5000;

/** ClickHouse error codes of a query stopped by the limits. */
const timedOut = new Set(['159']);
const tooLarge = new Set(['241', '158', '307', '396']);

const megabytes = (bytes: number): string => `${Math.round(bytes / (1024 * 1024))} MB`;

/**
 * The limits as a query's own SETTINGS clause. Not `clickhouse_settings`: chDB runs those as `SET` statements on the
 * connection's session, which then takes one more call to set them back (`callSettingsOnly`).
 */
function settingsClause(limits: QueryLimits): string {
  const settings: string[] = [];
  if (limits.timeoutSeconds > 0) settings.push(`max_execution_time = ${limits.timeoutSeconds}`);
  if (limits.maxMemoryBytes > 0) settings.push(`max_memory_usage = ${limits.maxMemoryBytes}`);
  const spill = limits.spillBytes ?? 0;
  if (spill > 0)
    settings.push(`max_bytes_before_external_group_by = ${spill}`, `max_bytes_before_external_sort = ${spill}`);
  return settings.length === 0 ? '' : `\nSETTINGS ${settings.join(', ')}`;
}

/** The clear answer for a query the limits stopped, or undefined for any other failure. */
export function limitError(error: unknown, limits: QueryLimits, narrow: string): AppError | undefined {
  for (let cause = error, depth = 0; cause instanceof Error && depth < 5; cause = cause.cause, depth += 1) {
    const code = String((cause as { code?: unknown }).code ?? '');
    // The client gave up: its own wait past the limit, or (on a server) the HTTP client's request_timeout.
    const aborted =
      cause.name === 'AbortError' || /^Query aborted|aborted a request|^Timeout error/i.test(cause.message);
    if ((cause.constructor.name === 'ClickHouseError' && timedOut.has(code)) || aborted) {
      return new AppError(
        'QUERY_TIMEOUT',
        `the query ran past its ${limits.timeoutSeconds} s limit and was stopped; narrow it (${narrow}) and try again`,
        undefined,
        5,
      );
    }
    if (cause.constructor.name === 'ClickHouseError' && tooLarge.has(code) && !/total/i.test(cause.message)) {
      return new AppError(
        'QUERY_TOO_LARGE',
        `the query needed more than its ${megabytes(limits.maxMemoryBytes)} memory limit and was stopped; ` +
          `narrow it (${narrow})`,
      );
    }
  }
  return undefined;
}

/**
 * A client whose queries (reads) carry the limits; commands and inserts are as `client`'s. A query the limits stop
 * rejects with QUERY_TIMEOUT (503) or QUERY_TOO_LARGE (422), whose message says what to narrow.
 */
export function limitQueries(client: ClickHouseClient, limits: QueryLimits, narrow: string): ClickHouseClient {
  const clause = settingsClause(limits);
  const limited = Object.create(client) as ClickHouseClient;
  limited.query = (async (params: Parameters<ClickHouseClient['query']>[0]) => {
    const signals = params.abort_signal ? [params.abort_signal] : [];
    if (limits.timeoutSeconds > 0) signals.push(AbortSignal.timeout(limits.timeoutSeconds * 1000 + clientGraceMs));
    try {
      return await client.query({
        ...params,
        query: `${params.query}${clause}`,
        ...(signals.length > 0 ? { abort_signal: AbortSignal.any(signals) } : {}),
      });
    } catch (error) {
      throw limitError(error, limits, narrow) ?? error;
    }
  }) as ClickHouseClient['query'];
  return limited;
}

/**
 * At most `concurrencyPerKey` requests of one key in flight on the routes `applies` picks; one more is answered
 * 429 RATE_LIMITED with Retry-After. Counted from after authentication until the server is done with the request:
 * its handler has answered (onSend) and the response is over (sent, or its client gone). A client that gives up does
 * not free its place while its queries still run, so it cannot pile more of them up behind the first.
 */
export function limitConcurrency(
  app: FastifyInstance,
  options: { concurrencyPerKey: number; applies: (request: FastifyRequest) => boolean; what: string },
): void {
  if (options.concurrencyPerKey <= 0) return;
  const inFlight = new Map<string, number>();
  /** Per request holding a place: what is still to happen before it is given back. */
  const holding = new WeakMap<FastifyRequest, { key: string; pending: number }>();
  const done = (request: FastifyRequest) => {
    const held = holding.get(request);
    if (!held || --held.pending > 0) return;
    holding.delete(request);
    const left = (inFlight.get(held.key) ?? 1) - 1;
    if (left <= 0) inFlight.delete(held.key);
    else inFlight.set(held.key, left);
  };
  app.addHook('preHandler', async (request, reply) => {
    const authorization = request.headers.authorization;
    if (!request.grant || !authorization || !options.applies(request)) return;
    // By the key itself (hashed), not its listed prefix, which keys of one source may share.
    const key = createHash('sha256').update(authorization).digest('base64');
    const current = inFlight.get(key) ?? 0;
    if (current >= options.concurrencyPerKey) {
      throw new AppError(
        'RATE_LIMITED',
        `this key already has ${current} ${options.what} running, the most allowed at once; wait for one to finish`,
        undefined,
        1,
      );
    }
    inFlight.set(key, current + 1);
    holding.set(request, { key, pending: 2 });
    // 'close' comes once, whether the response was sent or the client went away first (fastify's onResponse misses
    // the latter); onSend comes once the handler has answered, which a streamed answer does before it is over.
    reply.raw.once('close', () => done(request));
  });
  app.addHook('onSend', async (request) => done(request));
}

/** The documented answers of a route whose reads carry limits: 422 and 429, and 503 for a timeout or a store away. */
export function queryLimitReplies(narrow: string): Record<422 | 429 | 503, ResponseDoc> {
  return {
    422: errorReply(
      'The query needed more memory than its limit (`CDP_QUERY_MAX_MEMORY_MB`, for previews `CDP_PREVIEW_MAX_MEMORY_MB`)',
      [
        {
          code: 'QUERY_TOO_LARGE',
          message: `the query needed more than its 1024 MB memory limit and was stopped; narrow it (${narrow})`,
        },
      ],
    ),
    429: errorReply(
      'The key already has as many requests running as it may (`CDP_QUERY_CONCURRENCY_PER_KEY`, for previews `CDP_PREVIEW_CONCURRENCY_PER_KEY`): retry after the seconds Retry-After says',
      [
        {
          code: 'RATE_LIMITED',
          message: 'this key already has 8 previews running, the most allowed at once; wait for one to finish',
        },
      ],
      retryAfterHeader,
    ),
    503: errorReply(
      'The query ran past its time limit (`CDP_QUERY_TIMEOUT_SECONDS`, for previews `CDP_PREVIEW_TIMEOUT_SECONDS`), or ClickHouse does not answer right now: retry after the seconds Retry-After says, narrowed',
      [
        {
          code: 'QUERY_TIMEOUT',
          message: `the query ran past its 10 s limit and was stopped; narrow it (${narrow}) and try again`,
        },
        {
          code: 'STORE_UNAVAILABLE',
          message: 'the analytics store (ClickHouse) does not answer right now; try again shortly',
        },
      ],
      retryAfterHeader,
    ),
  };
}
