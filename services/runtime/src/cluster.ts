// Migrations on a ClickHouse cluster (CDP_CLICKHOUSE_CLUSTER): every DDL statement runs ON CLUSTER, and every
// MergeTree-family engine becomes its Replicated counterpart. Without a cluster nothing here is used.
import type { ClickHouseClient, ClickHouseSettings } from '@clickhouse/client';
import { named } from './query-names';

/** A cluster name as `remote_servers` spells it, or a macro such as `{cluster}`. */
export const clusterNamePattern = /^(?:[A-Za-z0-9_.-]+|\{[A-Za-z0-9_]+\})$/;

/** A statement this module cannot place on a cluster: a new kind of migration needs a rule here first. */
export class ClusterRewriteError extends Error {
  readonly code = 'CLUSTER_REWRITE';
}

const part = '(?:`[^`]+`|[A-Za-z_][A-Za-z0-9_]*)';
const name = `${part}(?:\\.${part})?`;

/** Statements whose object name is followed by ON CLUSTER, as ClickHouse's grammar places it. */
const namedHeads = [
  new RegExp(`^CREATE\\s+TABLE\\s+(?:IF\\s+NOT\\s+EXISTS\\s+)?${name}`, 'i'),
  new RegExp(`^CREATE\\s+(?:MATERIALIZED\\s+)?VIEW\\s+(?:IF\\s+NOT\\s+EXISTS\\s+)?${name}`, 'i'),
  new RegExp(`^ALTER\\s+TABLE\\s+${name}`, 'i'),
  new RegExp(`^DROP\\s+(?:TABLE|VIEW)\\s+(?:IF\\s+EXISTS\\s+)?${name}`, 'i'),
  new RegExp(`^TRUNCATE\\s+TABLE\\s+(?:IF\\s+EXISTS\\s+)?${name}`, 'i'),
];
/** `EXCHANGE TABLES a AND b [ON CLUSTER c]`: the clause comes last. */
const exchange = new RegExp(`^EXCHANGE\\s+TABLES\\s+${name}\\s+AND\\s+${name}$`, 'i');
/** Rows are not DDL: an insert on one replica reaches the others by replication. */
const insert = /^INSERT\s+INTO\s/i;

const engineClause = /\bENGINE\s*=\s*([A-Za-z]+)/gi;
/** The MergeTree family, each with a Replicated counterpart taking the same arguments after the replica path. */
const replicable = /^(?:|Replacing|Aggregating|Summing|Collapsing|VersionedCollapsing|Graphite|Coalescing)MergeTree$/;

function refuse(statement: string, why: string): never {
  const head = statement.split('\n')[0]?.slice(0, 120) ?? '';
  throw new ClusterRewriteError(`cannot run on a cluster: ${why}: ${head}`);
}

/**
 * A replicated engine takes its Keeper path and replica name from the server's `default_replica_path` and
 * `default_replica_name` (by default `/clickhouse/tables/{uuid}/{shard}` and `{replica}`): with ON CLUSTER every
 * replica gets the table's UUID, so the path follows the table through EXCHANGE TABLES and a name dropped and created
 * again gets a path of its own. The arguments the engine had (a version column, a sign) are kept as they are.
 */
function replicateEngines(statement: string, createsTable: boolean): string {
  let engines = 0;
  const rewritten = statement.replace(engineClause, (clause, engine: string) => {
    engines += 1;
    if (!replicable.test(engine))
      refuse(statement, `engine ${engine} keeps its rows on one host; only the MergeTree family is replicated`);
    return clause.replace(new RegExp(`${engine}$`), `Replicated${engine}`);
  });
  if (createsTable && engines !== 1) refuse(statement, 'a table must name exactly one ENGINE');
  return rewritten;
}

/**
 * One migration statement as it runs on `cluster`: ON CLUSTER after the object name of every CREATE, ALTER, DROP,
 * TRUNCATE and EXCHANGE, and every MergeTree-family engine replicated; INSERTs as they are. Anything else throws a
 * ClusterRewriteError, so a migration using a construct not handled here fails its test instead of running half-placed.
 */
export function onCluster(statement: string, cluster: string): string {
  if (!clusterNamePattern.test(cluster)) throw new ClusterRewriteError(`not a cluster name: ${cluster}`);
  const text = statement.trim();
  if (/\bON\s+CLUSTER\b/i.test(text)) refuse(text, 'the statement names a cluster itself');
  if (/\bENGINE\s*=\s*Replicated/i.test(text)) refuse(text, 'the statement names a replicated engine itself');
  const clause = ` ON CLUSTER '${cluster}'`;
  if (insert.test(text)) return text;
  if (exchange.test(text)) return `${text}${clause}`;
  for (const head of namedHeads) {
    const match = head.exec(text);
    if (!match) continue;
    const placed = `${match[0]}${clause}${text.slice(match[0].length)}`;
    return /^CREATE\s/i.test(text) ? replicateEngines(placed, /^CREATE\s+TABLE\s/i.test(text)) : placed;
  }
  return refuse(text, 'no rule places this kind of statement on a cluster');
}

/** The statements of a migration as they run: unchanged without a cluster, else each one placed on it. */
export function statementsFor(statements: string[], cluster: string | undefined): string[] {
  return cluster === undefined ? statements : statements.map((statement) => onCluster(statement, cluster));
}

/**
 * Whether a database, or a table of the current database, exists on the server this client reaches. On a cluster a
 * CREATE … ON CLUSTER waits for every host, so a start that finds what it would create skips it and needs no other host.
 */
export async function existsOnServer(
  client: ClickHouseClient,
  kind: 'database' | 'table',
  name: string,
): Promise<boolean> {
  const where = kind === 'database' ? 'system.databases WHERE' : 'system.tables WHERE database = currentDatabase() AND';
  const result = await client.query(
    named(`cluster.${kind}Exists`, {
      query: `SELECT count() AS found FROM ${where} name = {name:String}`,
      query_params: { name },
      format: 'JSONEachRow',
    }),
  );
  const [row] = await result.json<{ found: number | string }>();
  return Number(row?.found ?? 0) > 0;
}

/**
 * How many replicas `cluster` has, as this server's `remote_servers` defines it. Throws when the server does not know
 * the cluster, or when it has more than one shard: every table would then be created on every shard, but rows reach
 * only the shard the client talks to, and nothing reads across shards (Distributed tables are not built).
 */
export async function clusterReplicas(client: ClickHouseClient, cluster: string): Promise<number> {
  const result = await client.query(
    named('cluster.replicas', {
      query: `SELECT toUInt32(count()) AS hosts, toUInt32(uniqExact(shard_num)) AS shards
      FROM system.clusters WHERE cluster = {cluster:String}`,
      query_params: { cluster },
      format: 'JSONEachRow',
    }),
  );
  const [row] = await result.json<{ hosts: number; shards: number }>();
  const hosts = Number(row?.hosts ?? 0);
  if (hosts === 0)
    throw new Error(
      `CDP_CLICKHOUSE_CLUSTER: the ClickHouse server defines no cluster named ${cluster} (remote_servers)`,
    );
  if (Number(row?.shards) > 1)
    throw new Error(
      `CDP_CLICKHOUSE_CLUSTER: cluster ${cluster} has ${row?.shards} shards; the platform places its tables on one shard ` +
        'and its replicas (sharding needs Distributed tables, which are not built)',
    );
  return hosts;
}

/**
 * Settings of the inserts that coordinate processes (migration records, migration-lock claims) on a cluster: the
 * insert returns once every replica of the shard holds the row, so a process reading any replica after it sees it.
 * On one replica, or without a cluster, none.
 */
export function everyReplica(replicas: number | undefined): ClickHouseSettings {
  return replicas !== undefined && replicas > 1
    ? { insert_quorum: String(replicas), insert_quorum_timeout: quorumTimeoutMs }
    : {};
}

/**
 * The longest an insert of everyReplica() may take before it fails instead: a lock claim acknowledged is visible on
 * every replica within this of its stamp, so the lock waits a little longer than this before trusting what it read
 * (the rest is room for the replicas' clocks to disagree).
 */
export const quorumTimeoutMs = 4_000;
export const clusterSettleMs = quorumTimeoutMs + 1_000;
