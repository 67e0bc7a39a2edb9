// A lock over migrations for processes sharing one ClickHouse: claims in a table, the earliest live claim holds it.
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { Logger } from 'pino';
import type { ClickHouseClient } from '@clickhouse/client';
import { clusterSettleMs, everyReplica, onCluster } from './cluster';
import { named } from './query-names';

export interface MigrationLockOptions {
  /** How long a claim lives unless renewed; a holder that died is taken over this long after its last renewal. */
  ttlMs?: number;
  /** How long to wait for another process's migrations before giving up with an error. */
  waitMs?: number;
  /** How often a waiter looks again. */
  pollMs?: number;
  /** Who claims; unique per process and call by default. */
  owner?: string;
  /** The ClickHouse cluster the lock table lives on (migrations.ts), and how many replicas a claim must reach. */
  cluster?: string;
  replicas?: number;
}

export interface MigrationLock {
  readonly owner: string;
  /** Throws when the claim was lost (a pause longer than the TTL let another process take over). */
  assertHeld(): Promise<void>;
  release(): Promise<void>;
}

export const lockTable = 'schema_migrations_lock';
const defaults = { ttlMs: 30_000, waitMs: 600_000, pollMs: 500 };
/**
 * A claim is stamped by ClickHouse's clock when its insert runs, and visible once the insert returns. A claim read
 * as the earliest is held only if it is still the earliest this long after, so a claim stamped earlier but still
 * being written when we first read has become visible: longer than a one-row insert can take (on a cluster, longer
 * than an insert may take to reach every replica: cluster.ts).
 */
const settleMs = 1_000;

interface Claim {
  owner: string;
  claimed_at: string;
  expires_in_ms: number;
}

/** One row per owner (a renewal replaces it); rows of long-gone owners leave a day after they expired. */
export const lockTableDefinition = `CREATE TABLE IF NOT EXISTS ${lockTable}
      (owner String, claimed_at DateTime64(3, 'UTC'), expires_at DateTime64(3, 'UTC'))
      ENGINE = ReplacingMergeTree ORDER BY owner
      TTL toDateTime(expires_at) + INTERVAL 1 DAY`;

export async function ensureLockTable(client: ClickHouseClient, cluster?: string): Promise<void> {
  const query = cluster === undefined ? lockTableDefinition : onCluster(lockTableDefinition, cluster);
  await client.command(named('migrations.createLockTable', { query }));
}

/**
 * Waits until this process holds the migration lock, renewing its claim while it waits and while it holds it.
 * Throws after `waitMs` naming the process that holds it.
 */
export async function acquireMigrationLock(
  client: ClickHouseClient,
  logger: Logger,
  options: MigrationLockOptions = {},
): Promise<MigrationLock> {
  const { ttlMs, waitMs, pollMs } = { ...defaults, ...options };
  const owner = options.owner ?? `${os.hostname()}/${process.pid}/${randomUUID().slice(0, 8)}`;
  await ensureLockTable(client, options.cluster);
  // On a cluster a claim returns once every replica holds it (or fails after quorumTimeoutMs), so whichever replica a
  // process reads, it sees the claim; the wait before trusting a read covers that time. Claims are stamped by the clock
  // of the replica that runs the insert: replicas' clocks must agree within a second, as NTP keeps them.
  const replicated = options.cluster === undefined ? {} : { clickhouse_settings: everyReplica(options.replicas) };
  const settle = options.cluster === undefined ? settleMs : clusterSettleMs;

  // The first claim is stamped by the server; renewals keep that stamp, so a waiter keeps its place in line.
  async function claim(claimedAt: string | null): Promise<void> {
    await client.command(
      named('migrations.claimLock', {
        query: `INSERT INTO ${lockTable} (owner, claimed_at, expires_at)
        SELECT {owner:String}, ${claimedAt === null ? 'now64(3)' : "{claimedAt:DateTime64(3, 'UTC')}"}, now64(3) + toIntervalMillisecond({ttlMs:UInt32})`,
        query_params: { owner, claimedAt, ttlMs },
        ...replicated,
      }),
    );
  }

  async function liveClaims(): Promise<Claim[]> {
    const result = await client.query(
      named('migrations.readLockClaims', {
        query: `SELECT owner, toString(claimed_at) AS claimed_at, toInt64(dateDiff('millisecond', now64(3), expires_at)) AS expires_in_ms
        FROM ${lockTable} FINAL WHERE expires_at > now64(3) ORDER BY claimed_at, owner`,
        format: 'JSONEachRow',
        // On a replicated table a read skips no claim a quorum acknowledged; a plain MergeTree ignores it.
        clickhouse_settings: { select_sequential_consistency: '1' },
      }),
    );
    return result.json<Claim>();
  }

  // An expiry in the past: the claim is no longer live, and the row goes with the table's TTL.
  async function expire(): Promise<void> {
    await client.command(
      named('migrations.expireLockClaim', {
        query: `INSERT INTO ${lockTable} (owner, claimed_at, expires_at) SELECT {owner:String}, now64(3), now64(3) - toIntervalMillisecond(1)`,
        query_params: { owner },
        ...replicated,
      }),
    );
  }

  async function mine(): Promise<Claim | undefined> {
    return (await liveClaims()).find((entry) => entry.owner === owner);
  }

  await claim(null);
  const claimedAt = (await mine())?.claimed_at;
  if (claimedAt === undefined)
    throw new Error(`migration lock: the claim of ${owner} is not readable right after it was written`);

  const deadline = Date.now() + waitMs;
  let announced = false;
  for (;;) {
    const [first] = await liveClaims();
    if (first?.owner === owner) {
      await new Promise((resolve) => setTimeout(resolve, settle));
      await claim(claimedAt);
      const [still] = await liveClaims();
      if (still?.owner === owner) break;
      continue;
    }
    if (Date.now() >= deadline) {
      await expire();
      throw new Error(
        `migrations: gave up after ${Math.round(waitMs / 1000)} s waiting for ${first?.owner ?? 'another process'}, which holds the migration lock ` +
          `(its claim expires in ${Math.round((first?.expires_in_ms ?? 0) / 1000)} s unless renewed); is a migration still running there?`,
      );
    }
    if (!announced) {
      logger.info({ holder: first?.owner, owner, waitMs }, 'waiting for another process to finish applying migrations');
      announced = true;
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
    await claim(claimedAt);
  }
  logger.debug({ owner }, 'migration lock taken');

  // Renewed well within the TTL; a failed renewal is only logged, assertHeld() decides whether the lock was lost.
  let renewing: Promise<void> = Promise.resolve();
  const timer = setInterval(
    () => {
      renewing = claim(claimedAt).catch((error: unknown) =>
        logger.warn({ err: error, owner }, 'renewing the migration lock failed'),
      );
    },
    Math.max(100, Math.floor(ttlMs / 3)),
  );
  timer.unref();

  async function release(): Promise<void> {
    clearInterval(timer);
    await renewing;
    await expire();
  }

  return {
    owner,
    async assertHeld() {
      const [first] = await liveClaims();
      if (first?.owner !== owner) {
        throw new Error(
          `migrations: ${owner} lost the migration lock to ${first?.owner ?? 'nobody'} (a pause longer than ${ttlMs} ms?); stopping before the next migration`,
        );
      }
    },
    release,
  };
}
