// Deliveries in ClickHouse (`destination_deliveries`, 0026): pending rows from triggers, then one row version per attempt.
import { createHash } from 'node:crypto';
import { fromClickHouseTime, named, toClickHouseTime, type ClickHouseClient } from '@cdp/runtime';

export type DeliveryStatus = 'pending' | 'delivered' | 'dead';

export interface EventIdentifier {
  type: 'user_id' | 'anonymous_id';
  value: string;
}

/** What made a delivery: the segment change, the event, the follow-up or the anniversary, as the payload's `trigger` shows it. */
export type TriggerRecord =
  | { kind: 'segment'; segmentId: string; change: 'entered' | 'exited'; at: string; version: number }
  | {
      kind: 'event';
      event: string;
      messageId: string;
      timestamp: string;
      properties: Record<string, unknown>;
      /** The event's identifiers, to find its profile when the resolver has placed it. */
      identifiers: EventIdentifier[];
    }
  | {
      kind: 'followUp';
      /** The event that started it, as an event trigger shows it. */
      event: string;
      messageId: string;
      timestamp: string;
      properties: Record<string, unknown>;
      after: { value: number; unit: string };
      /** The event that would have cancelled it. */
      unless?: string;
      dueAt: string;
      identifiers: EventIdentifier[];
    }
  | { kind: 'anniversary'; trait: string; value: string; anniversary: string; daysBefore: number };

export interface Delivery {
  deliveryId: string;
  destinationId: string;
  /** The survivor profile, or '' for an event whose profile was not found yet. */
  profileId: string;
  trigger: TriggerRecord;
  /** The rendered body, '' until the first attempt renders it. */
  body: string;
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: number;
  createdAt: number;
  updatedAt: number;
  lastStatus: number;
  lastError: string;
  latencyMs: number;
  version: number;
}

interface Row {
  delivery_id: string;
  destination_id: string;
  profile_id: string;
  trigger: string;
  body: string;
  status: DeliveryStatus;
  attempts: number;
  next_attempt_at: string;
  created_at: string;
  updated_at: string;
  last_status: number;
  last_error: string;
  latency_ms: number;
  version: string | number;
}

/** The same trigger record always gives the same id: a replayed log record rewrites its pending row, it adds none. */
export function deliveryIdOf(destinationId: string, source: string): string {
  return `dlv_${createHash('sha256').update(`${destinationId}\u0000${source}`).digest('hex').slice(0, 24)}`;
}

const toRow = (delivery: Delivery): Row => ({
  delivery_id: delivery.deliveryId,
  destination_id: delivery.destinationId,
  profile_id: delivery.profileId,
  trigger: JSON.stringify(delivery.trigger),
  body: delivery.body,
  status: delivery.status,
  attempts: delivery.attempts,
  next_attempt_at: toClickHouseTime(delivery.nextAttemptAt),
  created_at: toClickHouseTime(delivery.createdAt),
  updated_at: toClickHouseTime(delivery.updatedAt),
  last_status: delivery.lastStatus,
  last_error: delivery.lastError.slice(0, 1000),
  latency_ms: Math.min(Math.round(delivery.latencyMs), 4_294_967_295),
  version: delivery.version,
});

const fromRow = (row: SelectedRow): Delivery => ({
  deliveryId: row.delivery_id,
  destinationId: row.destination_id,
  profileId: row.profile_id,
  trigger: JSON.parse(row.trigger) as TriggerRecord,
  body: row.body,
  status: row.status,
  attempts: Number(row.attempts),
  nextAttemptAt: fromClickHouseTime(row.next_attempt_text),
  createdAt: fromClickHouseTime(row.created_text),
  updatedAt: fromClickHouseTime(row.updated_text),
  lastStatus: Number(row.last_status),
  lastError: row.last_error,
  latencyMs: Number(row.latency_ms),
  version: Number(row.version),
});

// Times are read as text under names of their own: an alias named as its column would shadow it in WHERE and ORDER BY.
const columns = `delivery_id, destination_id, profile_id, trigger, body, status, attempts, toString(next_attempt_at) AS next_attempt_text,
  toString(created_at) AS created_text, toString(updated_at) AS updated_text, last_status, last_error, latency_ms, version`;

type SelectedRow = Omit<Row, 'next_attempt_at' | 'created_at' | 'updated_at'> & {
  next_attempt_text: string;
  created_text: string;
  updated_text: string;
};

/**
 * This instance's part of the due work when several share it: a row belongs to the instance holding the events
 * partition that the hash of its id names (`cityHash64(id) % count`). Null: every row (the only instance).
 */
export type Share = { count: number; owned: number[] } | null;

/** Whether two shares are the same: a rebalance in between changes the later one. */
export const sameShare = (a: Share, b: Share) =>
  a === b || (a !== null && b !== null && a.count === b.count && a.owned.join() === b.owned.join());

/** The SQL condition keeping an id column to the share, and its parameters. */
export function shareFilter(column: string, share: Share): { where: string; params: Record<string, unknown> } {
  if (!share) return { where: '1', params: {} };
  return {
    where: `cityHash64(${column}) % {shareCount:UInt32} IN {shareOwned:Array(UInt32)}`,
    params: { shareCount: share.count, shareOwned: share.owned },
  };
}

export interface DeliveryStore {
  /** New pending deliveries (version 1: any attempt's row outranks them). */
  enqueue(
    deliveries: Array<Pick<Delivery, 'deliveryId' | 'destinationId' | 'profileId' | 'trigger'>>,
    now: number,
  ): Promise<void>;
  /** A destination's pending deliveries due by `now` in this instance's share, oldest due first. */
  due(destinationId: string, now: number, limit: number, share: Share): Promise<Delivery[]>;
  /** Writes the delivery as it stands after an attempt, under a higher version. */
  record(deliveries: Delivery[]): Promise<void>;
  /** The destination's latest deliveries, newest first. */
  recent(destinationId: string, options: { limit: number; status?: DeliveryStatus }): Promise<Delivery[]>;
  /** Turns the destination's dead deliveries pending again, due now, with a fresh retry horizon; returns how many. */
  replayDead(destinationId: string, now: number): Promise<number>;
}

export function createDeliveryStore(client: ClickHouseClient): DeliveryStore {
  let lastVersion = 1;
  /** Versions grow in this process also within one millisecond; across processes the clock orders them. */
  const nextVersion = () => (lastVersion = Math.max(Date.now(), lastVersion + 1));

  async function select(
    where: string,
    params: Record<string, unknown>,
    order: string,
    limit: number,
  ): Promise<Delivery[]> {
    const result = await client.query(
      named('destinations.readDeliveries', {
        query: `SELECT ${columns} FROM destination_deliveries FINAL WHERE ${where} ORDER BY ${order} LIMIT {limit:UInt32}`,
        query_params: { ...params, limit },
        format: 'JSONEachRow',
      }),
    );
    return (await result.json<SelectedRow>()).map(fromRow);
  }

  const store: DeliveryStore = {
    async enqueue(deliveries, now) {
      if (deliveries.length === 0) return;
      const rows = deliveries.map((delivery) =>
        toRow({
          ...delivery,
          body: '',
          status: 'pending',
          attempts: 0,
          nextAttemptAt: now,
          createdAt: now,
          updatedAt: now,
          lastStatus: 0,
          lastError: '',
          latencyMs: 0,
          version: 1,
        }),
      );
      await client.insert(
        named('destinations.enqueueDeliveries', {
          table: 'destination_deliveries',
          values: rows,
          format: 'JSONEachRow',
        }),
      );
    },
    due(destinationId, now, limit, share) {
      const part = shareFilter('delivery_id', share);
      return select(
        `destination_id = {destinationId:String} AND status = 'pending' AND next_attempt_at <= {now:DateTime64(3, 'UTC')} AND ${part.where}`,
        { destinationId, now: toClickHouseTime(now), ...part.params },
        'next_attempt_at, delivery_id',
        limit,
      );
    },
    async record(deliveries) {
      if (deliveries.length === 0) return;
      const rows = deliveries.map((delivery) =>
        toRow({ ...delivery, version: Math.max(nextVersion(), delivery.version + 1) }),
      );
      await client.insert(
        named('destinations.recordDeliveries', {
          table: 'destination_deliveries',
          values: rows,
          format: 'JSONEachRow',
        }),
      );
    },
    recent(destinationId, { limit, status }) {
      return select(
        `destination_id = {destinationId:String}${status ? ' AND status = {status:String}' : ''}`,
        { destinationId, status },
        'created_at DESC, delivery_id',
        limit,
      );
    },
    async replayDead(destinationId, now) {
      // Only rows dead before the replay began, a page at a time by id: a row the worker kills again meanwhile (the
      // receiver still refuses it) is not replayed again by this call.
      let replayed = 0;
      let after = '';
      for (;;) {
        const dead = await select(
          "destination_id = {destinationId:String} AND status = 'dead' AND updated_at < {began:DateTime64(3, 'UTC')} AND delivery_id > {after:String}",
          { destinationId, began: toClickHouseTime(now), after },
          'delivery_id',
          1000,
        );
        if (dead.length === 0) return replayed;
        await store.record(
          dead.map((delivery) => ({
            ...delivery,
            status: 'pending',
            attempts: 0,
            nextAttemptAt: now,
            createdAt: now,
            updatedAt: now,
            lastError: `replayed; before: ${delivery.lastError}`,
          })),
        );
        replayed += dead.length;
        after = dead[dead.length - 1]!.deliveryId;
      }
    },
  };
  return store;
}
