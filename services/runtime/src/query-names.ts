// Every ClickHouse call carries a name: its log_comment, the prefix of its query_id, a comment leading its SQL, its label in the
// duration histogram and in the slow-call log line.
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { BaseQueryParams, ClickHouseClient, DataFormat, ResultSet } from '@clickhouse/client';
import type { Logger } from 'pino';
import type { Metrics } from './metrics';

/** The name a call without one is counted under when names are not required. */
export const unnamedQuery = 'unnamed';

/** `<module>.<what>`: a lower-case module, then a lower camel name (`segments.buildPass`, `profiles.readAudiencePage`). */
export const queryNameShape = /^[a-z][a-zA-Z0-9]*(\.[a-z][a-zA-Z0-9]*)+$/;

/** Buckets from a point lookup to a full segment pass over a large store. */
const buckets = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

/** The parameters of any call: `query`, `command` and `exec` name a `query`, `insert` a `table`. */
type CallParams = BaseQueryParams & { query?: string; table?: string; format?: DataFormat };

/**
 * A call's parameters with its name as the ClickHouse `log_comment`, the one place a name is carried:
 * `client.query(named('profiles.readProfile', { query, query_params, format: 'JSONEachRow' }))`.
 */
export function named<P extends CallParams>(name: string, params: P): P {
  return { ...params, clickhouse_settings: { ...params.clickhouse_settings, log_comment: name } };
}

export class UnnamedQueryError extends Error {
  readonly code = 'UNNAMED_QUERY';
  constructor(detail: string, sql: string) {
    // No quotes around the hint: the logger blanks quoted literals.
    super(
      `ClickHouse call ${detail}; name it with named(<module>.<what>, params): ${sql.replace(/\s+/g, ' ').trim().slice(0, 160)}`,
    );
    this.name = 'UnnamedQueryError';
  }
}

export interface QueryNaming {
  /** The component logger the slow-call warnings go to. */
  logger: Logger;
  /** Where `cdp_clickhouse_query_seconds{query}` is registered; without it calls are named and logged but not measured. */
  metrics?: Metrics;
  /** A call taking longer than this logs a warning with its name; 0 logs every call. */
  slowQueryMs: number;
  /** Whether a call without a well-formed name throws `UNNAMED_QUERY` (tests) instead of running as `unnamed`. */
  requireNames: boolean;
}

/**
 * Makes `client` name, measure and log every `query`, `command`, `insert` and `exec` (in place: it stays the client every
 * service types as `ClickHouseClient`). A query is measured until its result is read (`json()`, `text()`, the end of
 * `stream()`, or `close()`), so a streamed export counts whole; the others until they resolve.
 */
export function nameQueries(client: ClickHouseClient, naming: QueryNaming): ClickHouseClient {
  const seconds = naming.metrics?.histogram(
    'cdp_clickhouse_query_seconds',
    'ClickHouse call duration by query name, until its result is read',
    ['query'],
    buckets,
  );

  function nameOf(params: CallParams): string {
    const comment = params.clickhouse_settings?.log_comment;
    const sql = params.query ?? `INSERT INTO ${params.table ?? '?'}`;
    if (naming.requireNames && !comment) throw new UnnamedQueryError('without a name', sql);
    if (naming.requireNames && !queryNameShape.test(comment ?? ''))
      throw new UnnamedQueryError(`named ${JSON.stringify(comment)}, not <module>.<what>`, sql);
    return comment || unnamedQuery;
  }

  /** Names a call: its log_comment always (chDB's session would otherwise keep the previous call's), its query_id unless given. */
  function prepare<P extends CallParams>(params: P): { name: string; queryId: string; params: P } {
    const name = nameOf(params);
    const queryId = params.query_id ?? `${name}:${randomUUID()}`;
    return {
      name,
      queryId,
      params: {
        ...params,
        // Also leading the SQL as a comment, which the store keeps in system.processes (chDB gives its own query ids);
        // right before the first word, or an INSERT's text there loses it.
        ...(params.query !== undefined && queryNameShape.test(name)
          ? { query: `/* ${name} */ ${params.query.trimStart()}` }
          : {}),
        query_id: queryId,
        clickhouse_settings: { ...params.clickhouse_settings, log_comment: name },
      },
    };
  }

  function done(name: string, queryId: string, started: number, failed: boolean): void {
    const elapsedMs = performance.now() - started;
    seconds?.observe({ query: name }, elapsedMs / 1000);
    if (elapsedMs > naming.slowQueryMs)
      naming.logger.warn(
        { query: name, queryId, ms: Math.round(elapsedMs), ...(failed ? { failed } : {}) },
        'slow ClickHouse query',
      );
  }

  /** Runs one call, measured until it settles. */
  async function measured<P extends CallParams, R>(params: P, call: (params: P) => Promise<R>): Promise<R> {
    const prepared = prepare(params);
    const started = performance.now();
    try {
      const result = await call(prepared.params);
      done(prepared.name, prepared.queryId, started, false);
      return result;
    } catch (error) {
      done(prepared.name, prepared.queryId, started, true);
      throw error;
    }
  }

  const query = client.query.bind(client);
  const command = client.command.bind(client);
  const insert = client.insert.bind(client);
  const exec = client.exec.bind(client);

  client.query = (async (params: Parameters<typeof query>[0]) => {
    const prepared = prepare(params);
    const started = performance.now();
    let result: Awaited<ReturnType<typeof query>>;
    try {
      result = await query(prepared.params);
    } catch (error) {
      done(prepared.name, prepared.queryId, started, true);
      throw error;
    }
    whenRead(result as ResultSet<unknown>, (failed) => done(prepared.name, prepared.queryId, started, failed));
    return result;
  }) as typeof client.query;
  client.command = (params) => measured(params, command);
  client.insert = ((params: Parameters<typeof insert>[0]) => measured(params, insert)) as typeof client.insert;
  client.exec = (params) => measured(params, exec);
  return client;
}

/** Calls `settle` once, when the result set has been read, streamed to its end, or closed. */
function whenRead(result: ResultSet<unknown>, settle: (failed: boolean) => void): void {
  let pending = true;
  const once = (failed: boolean) => {
    if (pending) {
      pending = false;
      settle(failed);
    }
  };
  const { text, json, stream, close } = result;
  const read =
    <T>(method: () => Promise<T>) =>
    async (): Promise<T> => {
      try {
        const value = await method.call(result);
        once(false);
        return value;
      } catch (error) {
        once(true);
        throw error;
      }
    };
  result.text = read(text);
  result.json = read(json) as typeof json;
  // json() of a row format reads through stream(), which settles first. A stream ends with its close, after an error
  // too; listening for 'error' would swallow an error nobody else listens for.
  result.stream = (() => {
    const rows = stream.call(result);
    rows.once('close', () => once(rows.errored !== null));
    return rows;
  }) as typeof stream;
  result.close = () => {
    close.call(result);
    once(false);
  };
}
