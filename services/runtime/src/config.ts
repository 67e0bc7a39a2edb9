// Platform configuration from the environment, validated once at start; every variable is in the README table.
import path from 'node:path';
import { z } from 'zod';
import { clusterNamePattern } from './cluster';
import { minimumSeededKeyLength } from './keys';
import type { QueryLimits } from './query-limits';

const optionalString = z
  .string()
  .trim()
  .transform((value) => (value === '' ? undefined : value))
  .optional();

const seededKey = optionalString.refine(
  (value) => value === undefined || value.length >= minimumSeededKeyLength,
  `must be at least ${minimumSeededKeyLength} characters, or unset to have one generated`,
);

/** The most identifiers of each kind one profile may gather (every resolver must use the same): `email=5,phone=5`. */
export const defaultIdentityLimits = { email: 5, phone: 5, anonymous_id: 100 };
const identityLimits = z
  .string()
  .default('')
  .transform((text, context) => {
    const limits: Record<string, number> = { ...defaultIdentityLimits };
    for (const part of text
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean)) {
      const match = /^(email|phone|zalo_id|messenger_psid|anonymous_id)=(\d+)$/.exec(part);
      if (!match || Number(match[2]) < 1) {
        context.addIssue({
          code: 'custom',
          message: `${part} is not TYPE=N with TYPE one of email, phone, zalo_id, messenger_psid, anonymous_id and N at least 1`,
        });
        return z.NEVER;
      }
      limits[match[1] as string] = Number(match[2]);
    }
    return limits as typeof defaultIdentityLimits;
  });

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);
const nonNegativeInt = (fallback: number) => z.coerce.number().int().min(0).default(fallback);

/** An IPv4 or IPv6 address, optionally with a /prefix. */
const addressOrCidr = /^(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9a-f:]*:[0-9a-f:.]*)(?:\/\d{1,3})?$/i;

/** Comma-separated IP addresses or CIDRs, as a list; `example` shows the form in the error. */
const addressList = (example: string) =>
  optionalString
    .transform(
      (value) =>
        value
          ?.split(',')
          .map((entry) => entry.trim())
          .filter(Boolean) ?? [],
    )
    .refine(
      (entries) => entries.every((entry) => addressOrCidr.test(entry)),
      `must be comma-separated IP addresses or CIDRs such as ${example}`,
    );

export const configSchema = z.object({
  HOST: z.string().default('0.0.0.0'),
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  CDP_DATA_DIR: z.string().default('.cdp-data'),
  KAFKA_BROKERS: optionalString
    .transform((value) =>
      value
        ?.split(',')
        .map((broker) => broker.trim())
        .filter(Boolean),
    )
    .refine((brokers) => brokers === undefined || brokers.length > 0, 'must name at least one broker as host:port'),
  KAFKA_CLIENT_ID: z.string().default('cdp'),
  CDP_KAFKA_CLIENT: z.enum(['kafkajs', 'platformatic']).default('kafkajs'),
  CDP_TOPIC_PARTITIONS: positiveInt(6),
  CDP_TOPIC_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9._-]*$/, 'may hold letters, digits, dot, underscore, dash')
    .default(''),
  CLICKHOUSE_URL: optionalString.pipe(z.url({ message: 'must be a URL such as http://localhost:8123' }).optional()),
  CLICKHOUSE_USER: optionalString,
  CLICKHOUSE_PASSWORD: optionalString,
  CDP_CHDB_PATH: optionalString,
  CDP_CHDB_CONNECTIONS: positiveInt(8),
  CLICKHOUSE_DATABASE: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a plain identifier (letters, digits, underscore)')
    .default('cdp'),
  CDP_CLICKHOUSE_CLUSTER: optionalString.refine(
    (value) => value === undefined || clusterNamePattern.test(value),
    'must be a cluster name of the server (letters, digits, dot, underscore, dash) or a macro such as {cluster}',
  ),
  CDP_CLICKHOUSE_SLOW_QUERY_MS: nonNegativeInt(2000),
  CDP_CLICKHOUSE_REQUIRE_NAMES: z.enum(['true', 'false']).default('false'),
  CDP_WRITE_KEY: seededKey,
  CDP_READ_KEY: seededKey,
  CDP_ADMIN_KEY: seededKey,
  CDP_RESOLVER_BATCH_SIZE: positiveInt(5000),
  CDP_RESOLVER_SNAPSHOT_EVERY: positiveInt(100000),
  CDP_IDENTITY_LIMITS: identityLimits,
  CDP_EVENTS_RETENTION_DAYS: nonNegativeInt(0),
  CDP_LOG_RETENTION_HOURS: positiveInt(168),
  CDP_CLIENT_IP: z.enum(['keep', 'truncate', 'drop']).default('keep'),
  CDP_CONSENT_CATEGORIES: z
    .string()
    .default('Analytics')
    .transform((text) =>
      text
        .split(',')
        .map((value) => value.trim())
        .filter(Boolean),
    ),
  CDP_TRUST_ALL_SOURCES: z.enum(['true', 'false']).default('false'),
  CDP_DEDUPE_WINDOW_HOURS: positiveInt(24),
  CDP_DEDUPE_MAX_IDS: positiveInt(500_000),
  CDP_IDENTITY_BLOCKLIST: z
    .string()
    .default('')
    .transform((text) =>
      text
        .split(',')
        .map((value) => value.trim())
        .filter(Boolean),
    ),
  CDP_SEGMENTS_INTERVAL_MS: positiveInt(300000),
  CDP_SEGMENTS_FOLLOW: z.enum(['true', 'false']).default('true'),
  CDP_SEGMENTS_SWEEP_MS: positiveInt(60000),
  CDP_SHUTDOWN_TIMEOUT_MS: positiveInt(15000),
  CDP_TRUSTED_PROXIES: addressList('10.0.0.0/8'),
  CDP_RATE_LIMIT_PER_SECOND: nonNegativeInt(10000),
  CDP_QUERY_TIMEOUT_SECONDS: nonNegativeInt(30),
  CDP_QUERY_MAX_MEMORY_MB: nonNegativeInt(2048),
  CDP_QUERY_SPILL_MB: nonNegativeInt(256),
  CDP_QUERY_CONCURRENCY_PER_KEY: nonNegativeInt(32),
  CDP_ANALYTICS_CACHE_SECONDS: nonNegativeInt(30),
  CDP_PREVIEW_TIMEOUT_SECONDS: nonNegativeInt(10),
  CDP_PREVIEW_MAX_MEMORY_MB: nonNegativeInt(1024),
  CDP_PREVIEW_CONCURRENCY_PER_KEY: nonNegativeInt(8),
  CDP_MAX_EVENT_LOOP_DELAY_MS: nonNegativeInt(1000),
  CDP_MAX_HEAP_USED_MB: nonNegativeInt(0),
  CDP_ZALO_APP_ID: optionalString,
  CDP_ZALO_OA_SECRET: optionalString,
  CDP_MESSENGER_APP_SECRET: optionalString,
  CDP_MESSENGER_VERIFY_TOKEN: optionalString,
  CDP_HELPDESK_SECRET: optionalString,
  CDP_HELPDESK_NAME: z
    .string()
    .regex(/^[a-z0-9_-]{1,40}$/, 'may hold lower-case letters, digits, underscore, dash (up to 40)')
    .default('helpdesk'),
  CDP_DESTINATIONS_ALLOW: addressList('127.0.0.0/8,::1/128'),
  CDP_DESTINATIONS_POLL_MS: positiveInt(1000),
  CDP_DESTINATIONS_TIMEOUT_MS: positiveInt(10000),
  CDP_DESTINATIONS_BACKOFF_BASE_MS: positiveInt(1000),
  CDP_DESTINATIONS_BACKOFF_MAX_MS: positiveInt(3_600_000),
  CDP_DESTINATIONS_RETRY_HORIZON_MS: positiveInt(86_400_000),
  CDP_DESTINATIONS_TIMER_POLL_MS: positiveInt(5000),
  CDP_DESTINATIONS_ANNIVERSARY_SWEEP_MS: positiveInt(3_600_000),
});

export type ConfigInput = z.input<typeof configSchema>;

export type KafkaClient = z.output<typeof configSchema>['CDP_KAFKA_CLIENT'];

export interface Config {
  host: string;
  port: number;
  logLevel: z.output<typeof configSchema>['LOG_LEVEL'];
  dataDir: string;
  /** `client`: the Kafka client library the event log runs on (CDP_KAFKA_CLIENT). */
  kafka: { brokers: string[]; clientId: string; client: KafkaClient } | null;
  topicPartitions: number;
  topicPrefix: string;
  clickhouse: {
    url: string | null;
    user?: string;
    password?: string;
    database: string;
    chdbPath: string;
    /** Connections to the chDB directory: each runs its calls one at a time, several run side by side (8 unless given). */
    chdbConnections?: number;
    /**
     * A cluster of the server's `remote_servers`: migrations run ON CLUSTER on it with replicated tables (cluster.ts).
     * Only with a server (`url`); unset, every table lives on the one server or in chDB.
     */
    cluster?: string;
    /** A call taking longer than this logs a warning naming it (2000 unless given); 0 logs every call. */
    slowQueryMs?: number;
    /** Whether a call without a name throws `UNNAMED_QUERY` instead of running as `unnamed` (the test harness sets it). */
    requireNames?: boolean;
  };
  seedKeys: { write?: string; read?: string; admin?: string };
  resolverBatchSize: number;
  resolverSnapshotEvery: number;
  /** The most identifiers of each kind one profile may gather; a link past it is refused and recorded. */
  identityLimits: typeof defaultIdentityLimits;
  /** Emails and phones that identify nobody (a till's placeholder), besides the built-in ones: never linked. */
  identityBlocklist: string[];
  /** Consent categories the platform needs: an event whose consent denies one reaches no profile. */
  consentCategories: string[];
  /** A retried messageId stored within this window (at most this many remembered) is dropped: the first copy wins. */
  dedupe: { windowMs: number; maxIds: number };
  /** Whether every source's emails and phones link profiles, not only those of keys holding `trusted`. */
  trustAllSources: boolean;
  segmentsIntervalMs: number;
  /** Whether segments follow profile changes between full passes. */
  segmentsFollow: boolean;
  /** While following, how often profiles whose time windows passed a boundary are evaluated again. */
  segmentsSweepMs: number;
  shutdownTimeoutMs: number;
  trustedProxies: string[];
  ingest: { rateLimitPerSecond: number; maxEventLoopDelayMs: number; maxHeapUsedBytes: number };
  /** Limits on the query API's reads: every route's, and the tighter ones of previews (counted apart). */
  queryLimits: { reads: QueryLimits; previews: QueryLimits };
  /** How long an analytics answer is shared with later requests for the same question; 0: each is computed. */
  analyticsCacheSeconds: number;
  /** Days raw events (and touchpoints) are kept after their event time; 0 keeps them for ever. */
  eventsRetentionDays: number;
  /** How long the event log keeps a record after it was appended (every topic but the identity links). */
  logRetentionMs: number;
  /** What ingest keeps of a client's IP address in `context.ip`. */
  clientIp: 'keep' | 'truncate' | 'drop';
  destinations: DestinationsConfig;
  channels: ChannelsConfig;
}

/** The messaging channels whose webhooks ingest accepts; a channel left null answers 404 CHANNEL_NOT_CONFIGURED. */
export interface ChannelsConfig {
  /** A Zalo Official Account: its app's id and the OA secret key that signs its events. */
  zalo: { appId: string; oaSecret: string } | null;
  /** A Facebook app's secret (signs Messenger deliveries) and the verify token of its subscription handshake. */
  messenger: { appSecret: string; verifyToken: string } | null;
  /** A helpdesk posting our ticket webhook shape, its name (`properties.channel`) and signing secret. */
  helpdesk: { name: string; secret: string } | null;
  /** Deliveries older than this are refused; within it, a redelivered event id is stored once (the dedupe window). */
  maxAgeMs: number;
}

export interface DestinationsConfig {
  /** Addresses or CIDRs a destination may reach although they are loopback, private or link-local. */
  allow: string[];
  /** How often each destination's worker looks for due deliveries (new ones wake it at once in the same process). */
  pollMs: number;
  /** The most one request to a destination may take, connecting and reading the answer. */
  timeoutMs: number;
  /** Retries wait a random time up to min(max, base × 2^attempt) (full jitter), or what Retry-After asks. */
  backoff: { baseMs: number; maxMs: number };
  /** How long after its trigger a delivery is retried before it is dead. */
  retryHorizonMs: number;
  /** How often due timers (follow-ups, SLAs, anniversaries) are looked for. */
  timerPollMs: number;
  /** How often profiles are read for anniversaries coming within their triggers' days. */
  anniversarySweepMs: number;
}

export class ConfigError extends Error {
  readonly code = 'INVALID_CONFIG';
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
  }
}

/** Parses the environment; a bad value throws a ConfigError naming every variable that is wrong. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  // A variable set to the empty string (`PORT= cdp start`, an empty compose entry) means "use the default".
  const set = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value.trim() !== ''));
  const result = configSchema.safeParse(set);
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`));
  }
  const e = result.data;
  const pairs: Array<[string, string | undefined, string, string | undefined]> = [
    ['CDP_ZALO_APP_ID', e.CDP_ZALO_APP_ID, 'CDP_ZALO_OA_SECRET', e.CDP_ZALO_OA_SECRET],
    [
      'CDP_MESSENGER_APP_SECRET',
      e.CDP_MESSENGER_APP_SECRET,
      'CDP_MESSENGER_VERIFY_TOKEN',
      e.CDP_MESSENGER_VERIFY_TOKEN,
    ],
  ];
  const unpaired = pairs.flatMap(([name, value, otherName, other]) =>
    (value === undefined) === (other === undefined)
      ? []
      : [`${value === undefined ? name : otherName}: must be set with ${value === undefined ? otherName : name}`],
  );
  if (e.CDP_CLICKHOUSE_CLUSTER !== undefined && e.CLICKHOUSE_URL === undefined)
    unpaired.push('CDP_CLICKHOUSE_CLUSTER: needs CLICKHOUSE_URL (chDB in process is one server, with no cluster)');
  if (unpaired.length > 0) throw new ConfigError(unpaired);
  return {
    host: e.HOST,
    port: e.PORT,
    logLevel: e.LOG_LEVEL,
    dataDir: path.resolve(e.CDP_DATA_DIR),
    kafka: e.KAFKA_BROKERS
      ? { brokers: e.KAFKA_BROKERS, clientId: e.KAFKA_CLIENT_ID, client: e.CDP_KAFKA_CLIENT }
      : null,
    topicPartitions: e.CDP_TOPIC_PARTITIONS,
    topicPrefix: e.CDP_TOPIC_PREFIX,
    clickhouse: {
      url: e.CLICKHOUSE_URL ?? null,
      user: e.CLICKHOUSE_USER,
      password: e.CLICKHOUSE_PASSWORD,
      database: e.CLICKHOUSE_DATABASE,
      chdbPath: path.resolve(e.CDP_CHDB_PATH ?? path.join(e.CDP_DATA_DIR, 'clickhouse')),
      chdbConnections: e.CDP_CHDB_CONNECTIONS,
      ...(e.CDP_CLICKHOUSE_CLUSTER === undefined ? {} : { cluster: e.CDP_CLICKHOUSE_CLUSTER }),
      slowQueryMs: e.CDP_CLICKHOUSE_SLOW_QUERY_MS,
      requireNames: e.CDP_CLICKHOUSE_REQUIRE_NAMES === 'true',
    },
    seedKeys: { write: e.CDP_WRITE_KEY, read: e.CDP_READ_KEY, admin: e.CDP_ADMIN_KEY },
    resolverBatchSize: e.CDP_RESOLVER_BATCH_SIZE,
    resolverSnapshotEvery: e.CDP_RESOLVER_SNAPSHOT_EVERY,
    identityLimits: e.CDP_IDENTITY_LIMITS,
    identityBlocklist: e.CDP_IDENTITY_BLOCKLIST,
    consentCategories: e.CDP_CONSENT_CATEGORIES,
    dedupe: { windowMs: e.CDP_DEDUPE_WINDOW_HOURS * 3_600_000, maxIds: e.CDP_DEDUPE_MAX_IDS },
    trustAllSources: e.CDP_TRUST_ALL_SOURCES === 'true',
    segmentsIntervalMs: e.CDP_SEGMENTS_INTERVAL_MS,
    segmentsFollow: e.CDP_SEGMENTS_FOLLOW === 'true',
    segmentsSweepMs: e.CDP_SEGMENTS_SWEEP_MS,
    shutdownTimeoutMs: e.CDP_SHUTDOWN_TIMEOUT_MS,
    trustedProxies: e.CDP_TRUSTED_PROXIES,
    ingest: {
      rateLimitPerSecond: e.CDP_RATE_LIMIT_PER_SECOND,
      maxEventLoopDelayMs: e.CDP_MAX_EVENT_LOOP_DELAY_MS,
      maxHeapUsedBytes: e.CDP_MAX_HEAP_USED_MB * 1024 * 1024,
    },
    queryLimits: {
      reads: {
        timeoutSeconds: e.CDP_QUERY_TIMEOUT_SECONDS,
        maxMemoryBytes: e.CDP_QUERY_MAX_MEMORY_MB * 1024 * 1024,
        spillBytes: e.CDP_QUERY_SPILL_MB * 1024 * 1024,
        concurrencyPerKey: e.CDP_QUERY_CONCURRENCY_PER_KEY,
      },
      previews: {
        timeoutSeconds: e.CDP_PREVIEW_TIMEOUT_SECONDS,
        maxMemoryBytes: e.CDP_PREVIEW_MAX_MEMORY_MB * 1024 * 1024,
        spillBytes: e.CDP_QUERY_SPILL_MB * 1024 * 1024,
        concurrencyPerKey: e.CDP_PREVIEW_CONCURRENCY_PER_KEY,
      },
    },
    analyticsCacheSeconds: e.CDP_ANALYTICS_CACHE_SECONDS,
    clientIp: e.CDP_CLIENT_IP,
    eventsRetentionDays: e.CDP_EVENTS_RETENTION_DAYS,
    logRetentionMs: e.CDP_LOG_RETENTION_HOURS * 3_600_000,
    destinations: {
      allow: e.CDP_DESTINATIONS_ALLOW,
      pollMs: e.CDP_DESTINATIONS_POLL_MS,
      timeoutMs: e.CDP_DESTINATIONS_TIMEOUT_MS,
      backoff: { baseMs: e.CDP_DESTINATIONS_BACKOFF_BASE_MS, maxMs: e.CDP_DESTINATIONS_BACKOFF_MAX_MS },
      retryHorizonMs: e.CDP_DESTINATIONS_RETRY_HORIZON_MS,
      timerPollMs: e.CDP_DESTINATIONS_TIMER_POLL_MS,
      anniversarySweepMs: e.CDP_DESTINATIONS_ANNIVERSARY_SWEEP_MS,
    },
    channels: {
      zalo:
        e.CDP_ZALO_APP_ID && e.CDP_ZALO_OA_SECRET ? { appId: e.CDP_ZALO_APP_ID, oaSecret: e.CDP_ZALO_OA_SECRET } : null,
      messenger:
        e.CDP_MESSENGER_APP_SECRET && e.CDP_MESSENGER_VERIFY_TOKEN
          ? { appSecret: e.CDP_MESSENGER_APP_SECRET, verifyToken: e.CDP_MESSENGER_VERIFY_TOKEN }
          : null,
      helpdesk: e.CDP_HELPDESK_SECRET ? { name: e.CDP_HELPDESK_NAME, secret: e.CDP_HELPDESK_SECRET } : null,
      maxAgeMs: e.CDP_DEDUPE_WINDOW_HOURS * 3_600_000,
    },
  };
}
