// ClickHouse client factory: a server over HTTP when CLICKHOUSE_URL is set, else chDB in process in the data dir.
import { mkdirSync } from 'node:fs';
import { createClient, type ClickHouseClient, type ClickHouseSettings } from '@clickhouse/client';
import type { Logger } from 'pino';
import { existsOnServer } from './cluster';
import type { Config } from './config';
import type { Metrics } from './metrics';
import { named, nameQueries, unnamedQuery } from './query-names';

export type { ClickHouseClient } from '@clickhouse/client';

type ClientConnection = NonNullable<NonNullable<Parameters<typeof createClient>[0]>['connection']>;

export interface ClickHouse {
  readonly kind: 'server' | 'chdb';
  readonly client: ClickHouseClient;
  readonly database: string;
  ready(): Promise<boolean>;
  close(): Promise<void>;
}

const settings = {
  date_time_input_format: 'best_effort',
  output_format_json_quote_64bit_integers: 0,
} as const;

/**
 * On a server, every read of one query sees the same parts of a table: a query that reads a table more than once
 * (the analytics' `scopedTouchpoints`, a pass's roll-ups) then cannot see a row in one read and miss it in another
 * stored meanwhile. ClickHouse 25.11 on does so by default, and so does chDB; from 25.6, the first with the setting,
 * the client asks for it, so older servers refuse every call (README: `CLICKHOUSE_URL`).
 */
const serverSettings = { ...settings, enable_shared_storage_snapshot_in_query: 1 } as const;

/**
 * The client names, measures and logs every call (`query-names.ts`): give each one a name with `named()`. `metrics`, when
 * given, receives `cdp_clickhouse_query_seconds{query}`.
 */
export async function createClickHouse(
  config: Config['clickhouse'],
  logger: Logger,
  metrics?: Metrics,
): Promise<ClickHouse> {
  const log = logger.child({ component: 'clickhouse' });
  const naming = {
    logger: log,
    metrics,
    slowQueryMs: config.slowQueryMs ?? 2000,
    requireNames: config.requireNames ?? false,
  };
  const { database } = config;
  let client: ClickHouseClient;
  let kind: ClickHouse['kind'];
  if (config.url) {
    kind = 'server';
    const auth = { username: config.user ?? 'default', password: config.password ?? '' };
    const bootstrap = nameQueries(
      createClient({ url: config.url, ...auth, clickhouse_settings: serverSettings }),
      naming,
    );
    // On a cluster every host needs the database before a table is created ON CLUSTER in it; a start that finds it
    // here creates nothing, so it does not wait for every host.
    const create = `CREATE DATABASE IF NOT EXISTS ${database}`;
    if (config.cluster === undefined) await bootstrap.command(named('clickhouse.createDatabase', { query: create }));
    else if (!(await existsOnServer(bootstrap, 'database', database)))
      await bootstrap.command(
        named('clickhouse.createDatabase', { query: `${create} ON CLUSTER '${config.cluster}'` }),
      );
    await bootstrap.close();
    client = nameQueries(
      createClient({ url: config.url, ...auth, database, clickhouse_settings: serverSettings }),
      naming,
    );
    log.info({ url: config.url, database }, 'using ClickHouse server');
  } else {
    kind = 'chdb';
    const chdbPath = config.chdbPath;
    mkdirSync(chdbPath, { recursive: true });
    // Loaded lazily: the native engine is only needed when no server is configured.
    const { createChdbConnection } = await import('chdb/connection');
    // chdb types the connection against its own copy of client-common; the runtime contract is the same.
    const connections = Array.from(
      { length: Math.max(1, config.chdbConnections ?? 8) },
      () => createChdbConnection({ path: chdbPath }) as unknown as ClientConnection,
    );
    // chDB ignores the client's `database` option; each connection remembers USE instead.
    for (const [index, connection] of connections.entries()) {
      const one = nameQueries(createClient({ connection, clickhouse_settings: settings }), naming);
      if (index === 0)
        await one.command(named('clickhouse.createDatabase', { query: `CREATE DATABASE IF NOT EXISTS ${database}` }));
      await one.command(named('clickhouse.useDatabase', { query: `USE ${database}` }));
    }
    // Parameters are written into the query (`inliningParams`): a long list of ids must not make it too long to parse.
    const clientSettings = { ...settings, max_query_size: String(maxInlinedQueryBytes) };
    client = nameQueries(
      createClient({
        connection: pooled(connections.map((one) => callSettingsOnly(inliningParams(one), clientSettings))),
        clickhouse_settings: clientSettings,
      }),
      naming,
    );
    log.info({ path: chdbPath, database, connections: connections.length }, 'using chDB in process');
  }
  if (metrics) measureMemory(client, metrics, log);
  return {
    kind,
    client,
    database,
    async ready() {
      try {
        const result = await client.ping();
        return result.success;
      } catch {
        return false;
      }
    },
    close: () => client.close(),
  };
}

/** What `cdp_clickhouse_memory_bytes` reports, from the store's `system.metrics`. */
const memoryMetrics = [
  'MemoryTracking',
  'MergesMutationsMemoryTracking',
  'MarkCacheBytes',
  'PrimaryIndexCacheBytes',
  'IndexMarkCacheBytes',
  'UncompressedCacheBytes',
  'QueryConditionCacheBytes',
];

/**
 * The figures of jemalloc's summary line in its stats text: `Allocated: …, active: …, metadata: … (…), resident: …,
 * mapped: …, retained: …`.
 */
const allocatorMeasures = ['allocated', 'active', 'metadata', 'resident', 'mapped', 'retained'];
const allocatorQuery = `
  SELECT lower(pair[1]) AS label, toFloat64(pair[2]) AS value
  FROM (
    SELECT extractAllGroupsVertical(extract(stats, 'Allocated: [^\\n]*'), '([A-Za-z]+): ([0-9]+)') AS pairs
    FROM system.jemalloc_stats
  )
  ARRAY JOIN pairs AS pair
  WHERE label IN {measures:Array(String)}`;

/**
 * The name of a running call from its SQL (`query` of system.processes): the comment the call's SQL begins with
 * (query-names.ts), or for an insert, whose SQL is the client's own with no comment, `insert into <table>`.
 */
export const runningCallName = `multiIf(
  match(query, '^/[*] [a-zA-Z0-9.]+ [*]/'), extract(query, '^/[*] ([a-zA-Z0-9.]+) [*]/'),
  match(query, '^INSERT INTO [^ ]+ '), concat('insert into ', extract(query, '^INSERT INTO ([^ ]+) ')),
  '${unnamedQuery}')`;

function measureMemory(client: ClickHouseClient, metrics: Metrics, log: Logger) {
  /** A gauge of one label read from the store at each scrape: rows of (label, value); `replace` drops labels unseen. */
  const fromStore = (
    metric: { name: string; help: string; label: string; replace: boolean },
    read: { name: string; query: string; params?: Record<string, unknown> },
  ) =>
    metrics.gauge(metric.name, metric.help, [metric.label], async (gauge) => {
      try {
        const result = await client.query(
          named(read.name, { query: read.query, query_params: read.params, format: 'JSONEachRow' }),
        );
        const rows = await result.json<{ label: string; value: number }>();
        if (metric.replace) gauge.reset();
        for (const row of rows) gauge.set({ [metric.label]: row.label }, Number(row.value));
      } catch (error) {
        // A scrape never fails for the store: the last values stay.
        log.debug({ err: error, metric: metric.name }, 'store memory unreadable');
      }
    });
  fromStore(
    {
      name: 'cdp_clickhouse_memory_bytes',
      help: "The store's memory by its system.metrics (MemoryTracking: all it tracks; the rest its caches), read at each scrape",
      label: 'metric',
      replace: false,
    },
    {
      name: 'clickhouse.readMemory',
      query: 'SELECT metric AS label, value FROM system.metrics WHERE metric IN {metrics:Array(String)}',
      params: { metrics: memoryMetrics },
    },
  );
  // What the store's allocator holds beside what the store tracks: live allocations, the pages they occupy, what is
  // resident and what it keeps mapped (jemalloc's summary line). A store built without jemalloc gives an empty text (no
  // rows); one without the table fails the read, logged at debug like any unreadable figure.
  fromStore(
    {
      name: 'cdp_clickhouse_allocator_bytes',
      help: "The store's memory allocator (jemalloc's summary in system.jemalloc_stats): allocated (live), active (pages holding them), metadata, resident, mapped, retained (unmapped address space kept), read at each scrape",
      label: 'measure',
      replace: false,
    },
    { name: 'clickhouse.readAllocator', query: allocatorQuery, params: { measures: allocatorMeasures } },
  );
  // Which calls hold that memory now, by name (runningCallName).
  fromStore(
    {
      name: 'cdp_clickhouse_running_memory_bytes',
      help: "Memory held by the store's calls running at the scrape, by call name (system.processes; the scrape's own read among them)",
      label: 'query',
      replace: true,
    },
    {
      name: 'clickhouse.readRunningMemory',
      query: `SELECT ${runningCallName} AS label,
          sum(memory_usage) AS value
        FROM system.processes GROUP BY label`,
    },
  );
}

/**
 * Several chDB connections to one data directory as one: a call runs on a connection with nothing in hand, and when
 * every one is busy it waits in one queue for the first to be free. One connection runs its calls one after another,
 * while connections to the same directory run side by side (one engine, one set of tables), so a short read waits for
 * whichever call ends first, never behind a long insert or analytics query that another connection would have outrun.
 */
export function pooled(connections: ClientConnection[]): ClientConnection {
  const free = [...connections];
  const waiting: Array<(connection: ClientConnection) => void> = [];
  const take = (): Promise<ClientConnection> | ClientConnection =>
    free.pop() ?? new Promise<ClientConnection>((resolve) => waiting.push(resolve));
  const give = (connection: ClientConnection) => {
    const next = waiting.shift();
    if (next) next(connection);
    else free.push(connection);
  };
  return connectionOf(
    async (method, params) => {
      const connection = await take();
      try {
        return await callOn(connection, method, params);
      } finally {
        give(connection);
      }
    },
    async () => {
      await Promise.all(connections.map((connection) => connection.close()));
    },
  );
}

type CallMethod = 'query' | 'insert' | 'command' | 'exec' | 'ping';

const callOn = (connection: ClientConnection, method: CallMethod, params: unknown): Promise<unknown> =>
  (connection[method] as (params: unknown) => Promise<unknown>).call(connection, params);

/** A connection each of whose calls is `call(method, params)`. */
const connectionOf = (
  call: (method: CallMethod, params: unknown) => Promise<unknown>,
  close: () => Promise<void>,
): ClientConnection =>
  ({
    query: (params: unknown) => call('query', params),
    insert: (params: unknown) => call('insert', params),
    command: (params: unknown) => call('command', params),
    exec: (params: unknown) => call('exec', params),
    ping: (params: unknown) => call('ping', params),
    close,
  }) as ClientConnection;

// Settings that are no SET on chDB's session: the call's name, and what chDB reads as options or drops (HTTP's).
const notOfTheSession = new Set([
  'log_comment',
  'default_format',
  'wait_end_of_query',
  'send_progress_in_http_headers',
  'enable_http_compression',
]);

/**
 * A chDB connection whose calls' own settings last for that call only. chDB runs a call's `clickhouse_settings` as
 * `SET` statements on the connection's session, where they would stay for every later call the connection takes,
 * whoever makes it (a roll-up's `optimize_on_insert = 0` for the resolver's inserts after it). Once a call with
 * settings of its own is over, they are set back, before the connection takes another call: to the client's
 * settings, or else to the store's defaults. The name every call carries (`log_comment`) is its own anyway.
 */
export function callSettingsOnly(connection: ClientConnection, clientSettings: ClickHouseSettings): ClientConnection {
  const base = clientSettings as Record<string, unknown>;
  const ownKeys = (settings: ClickHouseSettings | undefined) =>
    Object.entries(settings ?? {}).flatMap(([key, value]) =>
      value === undefined || notOfTheSession.has(key) || key.startsWith('http_') || String(base[key]) === String(value)
        ? []
        : [key],
    );
  return connectionOf(
    async (method, params) => {
      const own = ownKeys((params as { clickhouse_settings?: ClickHouseSettings }).clickhouse_settings);
      try {
        return await callOn(connection, method, params);
      } finally {
        if (own.length > 0) {
          const unset = own.filter((key) => !(key in base)).map((key) => `${key} = DEFAULT`);
          await connection.command({
            query: unset.length > 0 ? `SET ${unset.join(', ')}` : 'SELECT 1',
            clickhouse_settings: clientSettings,
          } as never);
        }
      }
    },
    () => connection.close(),
  );
}

/** The longest query text chDB parses once its parameters are written into it. */
const maxInlinedQueryBytes = 256 * 1024 * 1024;

/**
 * A chDB connection whose calls carry their parameters as literals in the query text. chDB runs a call with query
 * parameters through one process-wide queue (its parameter binding is not safe on connections side by side), so
 * every parameterised call, on any connection, would wait for all the others; with the values written in, calls run
 * side by side as any other. Each `{name:Type}` becomes a literal of that type (`parameterLiteral`); the types are
 * those the platform's queries use (String, Date and DateTime, integers, floats, and arrays of them), and any other
 * type or a value not of its type is refused, naming the parameter.
 */
export function inliningParams(connection: ClientConnection): ClientConnection {
  type Connection = ClientConnection;
  const inline = <Params extends { query: string; query_params?: Record<string, unknown> }>(params: Params): Params =>
    params.query_params && Object.keys(params.query_params).length > 0
      ? { ...params, query: inlineParams(params.query, params.query_params), query_params: undefined }
      : params;
  return {
    query: (params) => connection.query(inline(params)),
    command: (params) => connection.command(inline(params)),
    exec: (params) => connection.exec(inline(params)),
    insert: (params) => connection.insert(params),
    ping: (params) => connection.ping(params),
    close: () => connection.close(),
  } as Connection;
}

/** `query` with each `{name:Type}` placeholder replaced by the literal of `params[name]` as that type. */
export function inlineParams(query: string, params: Record<string, unknown>): string {
  return query.replace(/\{([A-Za-z_][A-Za-z0-9_]*):([^{}]+)\}/g, (_, name: string, type: string) => {
    if (!(name in params)) throw new Error(`query parameter ${name} is not set`);
    return parameterLiteral(type.trim(), params[name], name);
  });
}

const quoted = (text: string) => `'${text.replaceAll('\\', '\\\\').replaceAll("'", "\\'").replaceAll('\0', '\\0')}'`;

/** One value of a scalar type as a literal: quoted text, or a number's digits. */
function scalarLiteral(type: string, value: unknown, name: string): string {
  if (type === 'String' || /^(Date|DateTime|DateTime64)(\(.*\))?$/.test(type)) {
    if (typeof value === 'string') return quoted(value);
  } else if (/^U?Int\d+$/.test(type)) {
    const text = integerText(value);
    if (text !== null && !(type.startsWith('U') && text.startsWith('-'))) return text;
  } else if (/^Float\d+$/.test(type)) {
    if (typeof value === 'number' && Number.isFinite(value)) return String(value);
    if (typeof value === 'string' && /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(value)) return value;
  } else throw new Error(`query parameter ${name}: type ${type} cannot be written into a query`);
  throw new Error(`query parameter ${name}: ${shown(value)} is not a ${type}`);
}

/** An integer's digits (a bigint, a safe integer, a boolean as 1 or 0, or a string of digits), else null. */
function integerText(value: unknown): string | null {
  if (typeof value === 'bigint' || (typeof value === 'number' && Number.isSafeInteger(value))) return value.toString();
  if (typeof value === 'boolean') return value ? '1' : '0';
  return typeof value === 'string' && /^-?\d+$/.test(value) ? value : null;
}

const shown = (value: unknown) => (typeof value === 'bigint' ? `${value}n` : JSON.stringify(value));

/** A parameter's value as a literal of its type: a String is quoted, anything else is cast to the type. */
export function parameterLiteral(type: string, value: unknown, name: string): string {
  const element = /^Array\((.+)\)$/.exec(type)?.[1];
  if (element !== undefined) {
    if (!Array.isArray(value)) throw new Error(`query parameter ${name}: ${shown(value)} is not an array`);
    return `CAST([${value.map((item) => scalarLiteral(element.trim(), item, name)).join(', ')}] AS ${type})`;
  }
  const literal = scalarLiteral(type, value, name);
  return type === 'String' ? literal : `CAST(${literal} AS ${type})`;
}

// Failures that say the store cannot answer now, not that the question was wrong: the connection (a server that is
// down, restarting or unreachable; chDB closed), and the server's own refusals under load.
const unreachable = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);
const overloaded = new Map([
  ['159', 'TIMEOUT_EXCEEDED'],
  ['173', 'CANNOT_ALLOCATE_MEMORY'],
  ['202', 'TOO_MANY_SIMULTANEOUS_QUERIES'],
  ['209', 'SOCKET_TIMEOUT'],
  ['210', 'NETWORK_ERROR'],
  ['241', 'MEMORY_LIMIT_EXCEEDED'],
  ['252', 'TOO_MANY_PARTS'],
  ['279', 'ALL_CONNECTION_TRIES_FAILED'],
  // Refusing writes for now: a full or failing disk, a read-only server or table, a lost coordination service, a
  // quorum not reached. The write is retried until the store takes it again, never skipped as if it were bad.
  ['75', 'CANNOT_WRITE_TO_FILE_DESCRIPTOR'],
  ['164', 'READONLY'],
  ['204', 'CANNOT_FSYNC'],
  ['225', 'NO_ZOOKEEPER'],
  ['242', 'TABLE_IS_READ_ONLY'],
  ['243', 'NOT_ENOUGH_SPACE'],
  ['286', 'UNSATISFIED_QUORUM_FOR_PREVIOUS_WRITE'],
  ['319', 'UNKNOWN_STATUS_OF_INSERT'],
  ['999', 'KEEPER_EXCEPTION'],
]);
const unreachableMessages = [/ChdbConnection is closed/, /^Timeout error/, /socket hang up/, /Client is closed/];

/** Whether an error (or one that caused it) means ClickHouse is unavailable for now: worth a retry later, not a fault of ours. */
export function isStoreUnavailable(error: unknown): boolean {
  for (let cause = error, depth = 0; cause instanceof Error && depth < 5; cause = cause.cause, depth += 1) {
    const code = String((cause as { code?: unknown }).code ?? '');
    // By name: chDB throws the ClickHouseError of its own copy of client-common, which instanceof would not match.
    if (unreachable.has(code) || (cause.constructor.name === 'ClickHouseError' && overloaded.has(code))) return true;
    if (unreachableMessages.some((pattern) => pattern.test(cause instanceof Error ? cause.message : ''))) return true;
  }
  return false;
}

const twoDigits = (value: number) => (value < 10 ? `0${value}` : String(value));
// The text of the second formatted last: a batch's times mostly fall in a few seconds (its receipt, its sending).
let formattedSecond = Number.NaN;
let formattedPrefix = '';

/**
 * ClickHouse's DateTime64(3, 'UTC') text form of an epoch-milliseconds instant (years 1000–9999), as
 * `toISOString()` would give it with a space for the T and no Z. Built from the UTC fields, not `toISOString()`
 * (two and a half times slower), and the date and time of the second reused for the next instant in it: the
 * resolver writes three of these per event.
 */
export function toClickHouseTime(epochMs: number): string {
  const ms = Math.trunc(epochMs);
  const second = Math.floor(ms / 1000);
  if (second !== formattedSecond) {
    const date = new Date(second * 1000);
    if (Number.isNaN(date.getTime())) throw new RangeError(`not a time: ${epochMs}`);
    formattedPrefix = `${date.getUTCFullYear()}-${twoDigits(date.getUTCMonth() + 1)}-${twoDigits(date.getUTCDate())} ${twoDigits(date.getUTCHours())}:${twoDigits(date.getUTCMinutes())}:${twoDigits(date.getUTCSeconds())}`;
    formattedSecond = second;
  }
  const fraction = ms - second * 1000;
  return `${formattedPrefix}.${fraction < 10 ? '00' : fraction < 100 ? '0' : ''}${fraction}`;
}

/** Epoch milliseconds of a DateTime64 value read back as text ("2024-01-02 03:04:05.678", UTC). */
export function fromClickHouseTime(value: string): number {
  return Date.parse(`${value.replace(' ', 'T')}Z`);
}
