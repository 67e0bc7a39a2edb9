// The privacy audit log: each erasure and suppression with the key that asked, when, its state and counts; no personal data.
import { randomBytes } from 'node:crypto';
import { fromClickHouseTime, named, toClickHouseTime, type ClickHouseClient } from '@cdp/runtime';

export type AuditAction = 'erasure' | 'suppress' | 'unsuppress';
export type AuditState = 'running' | 'done' | 'failed';

/** A new entry's id: `era_…` for an erasure, `sup_…` for a suppression or its lifting. */
export const newAuditId = (action: AuditAction) =>
  `${action === 'erasure' ? 'era' : 'sup'}_${randomBytes(12).toString('hex')}`;

export interface AuditEntry {
  id: string;
  action: AuditAction;
  /** The prefix of the key that asked, as `GET /v1/keys` lists it. */
  keyPrefix: string;
  state: AuditState;
  counts: Record<string, number>;
  error: string | null;
  createdAt: string;
  updatedAt: string;
}

interface AuditRow {
  id: string;
  action: AuditAction;
  key_prefix: string;
  state: AuditState;
  counts: Record<string, string | number>;
  error: string;
  created_at: string;
  updated_at: string;
}

export interface AuditLog {
  record(entry: Pick<AuditEntry, 'id' | 'action' | 'keyPrefix' | 'state' | 'counts'>): Promise<void>;
  update(id: string, change: Partial<Pick<AuditEntry, 'state' | 'counts' | 'error'>>): Promise<void>;
  get(id: string): Promise<AuditEntry | null>;
  /** The newest entries first. */
  list(limit: number): Promise<AuditEntry[]>;
}

const iso = (time: string) => new Date(fromClickHouseTime(time)).toISOString();
const entryOf = (row: AuditRow): AuditEntry => ({
  id: row.id,
  action: row.action,
  keyPrefix: row.key_prefix,
  state: row.state,
  counts: Object.fromEntries(Object.entries(row.counts).map(([name, count]) => [name, Number(count)])),
  error: row.error === '' ? null : row.error,
  createdAt: iso(row.created_at),
  updatedAt: iso(row.updated_at),
});

export function createAudit(client: ClickHouseClient): AuditLog {
  const read = async (where: string, params: Record<string, unknown>, limit: number) => {
    const result = await client.query(
      named('privacy.readAudit', {
        query: `SELECT id, action, key_prefix, state, counts, error, toString(created_at) AS created_at, toString(updated_at) AS updated_at
              FROM privacy_audit FINAL ${where} ORDER BY created_at DESC, id LIMIT {limit:UInt32}`,
        query_params: { ...params, limit },
        format: 'JSONEachRow',
      }),
    );
    return (await result.json<AuditRow>()).map(entryOf);
  };
  const write = (row: AuditRow) =>
    client.insert(named('privacy.writeAudit', { table: 'privacy_audit', values: [row], format: 'JSONEachRow' }));

  const audit: AuditLog = {
    async record(entry) {
      const now = toClickHouseTime(Date.now());
      await write({
        id: entry.id,
        action: entry.action,
        key_prefix: entry.keyPrefix,
        state: entry.state,
        counts: entry.counts,
        error: '',
        created_at: now,
        updated_at: now,
      });
    },
    async update(id, change) {
      const current = await audit.get(id);
      if (!current) throw new Error(`no audit entry ${id}`);
      // Written a millisecond after the row it replaces at the least, so the newer state wins whatever the clock says.
      await write({
        id,
        action: current.action,
        key_prefix: current.keyPrefix,
        state: change.state ?? current.state,
        counts: change.counts ?? current.counts,
        error: change.error ?? current.error ?? '',
        created_at: toClickHouseTime(Date.parse(current.createdAt)),
        updated_at: toClickHouseTime(Math.max(Date.now(), Date.parse(current.updatedAt) + 1)),
      });
    },
    async get(id) {
      return (await read('WHERE id = {id:String}', { id }, 1))[0] ?? null;
    },
    list: (limit) => read('', {}, limit),
  };
  return audit;
}
