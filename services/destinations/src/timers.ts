// Timers in ClickHouse (`destination_timers`, 0027): scheduled pending, read due in pages, settled fired or cancelled.
import { fromClickHouseTime, named, toClickHouseTime, type ClickHouseClient } from '@cdp/runtime';
import { shareFilter, type Share, type TriggerRecord } from './deliveries';
import type { Timer, TimerKind } from './schedule';

interface Row {
  kind: TimerKind;
  timer_id: string;
  destination_id: string;
  rule: string;
  profile_id: string;
  identifiers: string[];
  match_value: string;
  trigger: string;
  started_at: string;
  due_at: string;
  status: Timer['status'];
  reason: string;
  version: number;
}

type SelectedRow = Omit<Row, 'started_at' | 'due_at'> & { started_text: string; due_text: string };

// Times under names of their own: an alias named as its column would shadow it in WHERE and ORDER BY.
const columns = `kind, timer_id, destination_id, rule, profile_id, identifiers, match_value, trigger,
  toString(started_at) AS started_text, toString(due_at) AS due_text, status, reason, version`;

const toRow = (timer: Timer, version: number): Row => ({
  kind: timer.kind,
  timer_id: timer.timerId,
  destination_id: timer.destinationId,
  rule: timer.rule,
  profile_id: timer.profileId,
  identifiers: timer.identifiers,
  match_value: timer.matchValue,
  trigger: timer.trigger ? JSON.stringify(timer.trigger) : '',
  started_at: toClickHouseTime(timer.startedAt),
  due_at: toClickHouseTime(timer.dueAt),
  status: timer.status,
  reason: timer.reason.slice(0, 1000),
  version,
});

const fromRow = (row: SelectedRow): Timer => ({
  kind: row.kind,
  timerId: row.timer_id,
  destinationId: row.destination_id,
  rule: row.rule,
  profileId: row.profile_id,
  identifiers: row.identifiers,
  matchValue: row.match_value,
  trigger: row.trigger ? (JSON.parse(row.trigger) as TriggerRecord) : null,
  startedAt: fromClickHouseTime(row.started_text),
  dueAt: fromClickHouseTime(row.due_text),
  status: row.status,
  reason: row.reason,
});

/** Where a page of due timers ends: the next page starts after it. */
export interface TimerCursor {
  dueAt: number;
  timerId: string;
}

export interface TimerStore {
  /** New timers and awaited events (version 1: a fired or cancelled row outranks a replayed one). */
  schedule(timers: Timer[]): Promise<void>;
  /** Pending timers of a kind in this instance's share due by `cutoff`, in (due, id) order after `after`: at most `limit`. */
  duePage(
    kind: 'follow_up' | 'anniversary',
    cutoff: number,
    after: TimerCursor | null,
    limit: number,
    share: Share,
  ): Promise<Timer[]>;
  /**
   * Which of these timers an awaited event cancels: one of the timer's destination and rule, carrying one of its
   * `keys` (aligned with `timers`) and its match value, that arrived between its start and its due time. One read.
   */
  awaitedAmong(timers: Timer[], keys: string[][]): Promise<Set<string>>;
  /** Which of these timer ids of a kind are stored already, in any state. */
  existing(kind: TimerKind, timerIds: string[]): Promise<Set<string>>;
  /** Writes timers as fired or cancelled, under a higher version. */
  settle(timers: Timer[]): Promise<void>;
}

export function createTimerStore(client: ClickHouseClient): TimerStore {
  let lastVersion = 1;
  const nextVersion = () => (lastVersion = Math.max(Date.now(), lastVersion + 1));

  async function insert(name: string, rows: Row[]) {
    if (rows.length === 0) return;
    await client.insert(named(name, { table: 'destination_timers', values: rows, format: 'JSONEachRow' }));
  }

  return {
    schedule: (timers) =>
      insert(
        'destinations.scheduleTimers',
        timers.map((timer) => toRow(timer, 1)),
      ),
    async duePage(kind, cutoff, after, limit, share) {
      const part = shareFilter('timer_id', share);
      const result = await client.query(
        named('destinations.readDueTimers', {
          query: `SELECT ${columns} FROM destination_timers FINAL
            WHERE kind = {kind:String} AND due_at <= {cutoff:DateTime64(3, 'UTC')} AND status = 'pending'
              AND (due_at, timer_id) > ({afterDue:DateTime64(3, 'UTC')}, {afterId:String}) AND ${part.where}
            ORDER BY due_at, timer_id LIMIT {limit:UInt32}`,
          query_params: {
            kind,
            cutoff: toClickHouseTime(cutoff),
            afterDue: toClickHouseTime(after?.dueAt ?? 0),
            afterId: after?.timerId ?? '',
            limit,
            ...part.params,
          },
          format: 'JSONEachRow',
        }),
      );
      return (await result.json<SelectedRow>()).map(fromRow);
    },
    async awaitedAmong(timers, keys) {
      const arrived = new Set<string>();
      if (timers.length === 0) return arrived;
      // Read for the page at once, over the union of its windows and keys; each timer's own are matched here.
      const result = await client.query(
        named('destinations.readAwaitedEvents', {
          query: `SELECT destination_id, rule, match_value, toString(due_at) AS due_text, identifiers
            FROM destination_timers
            WHERE kind = 'awaited' AND due_at BETWEEN {from:DateTime64(3, 'UTC')} AND {to:DateTime64(3, 'UTC')}
              AND destination_id IN {destinationIds:Array(String)} AND rule IN {rules:Array(String)}
              AND match_value IN {matchValues:Array(String)} AND hasAny(identifiers, {keys:Array(String)})`,
          query_params: {
            from: toClickHouseTime(Math.min(...timers.map((timer) => timer.startedAt))),
            to: toClickHouseTime(Math.max(...timers.map((timer) => timer.dueAt))),
            destinationIds: [...new Set(timers.map((timer) => timer.destinationId))],
            rules: [...new Set(timers.map((timer) => timer.rule))],
            matchValues: [...new Set(timers.map((timer) => timer.matchValue))],
            keys: [...new Set(keys.flat())],
          },
          format: 'JSONEachRow',
        }),
      );
      // Each timer's candidates by destination, rule and match value: a page is matched in one pass over the rows.
      const slot = (destinationId: string, rule: string, matchValue: string) =>
        JSON.stringify([destinationId, rule, matchValue]);
      const events = new Map<string, Array<{ at: number; identifiers: string[] }>>();
      for (const row of await result.json<{
        destination_id: string;
        rule: string;
        match_value: string;
        due_text: string;
        identifiers: string[];
      }>()) {
        const key = slot(row.destination_id, row.rule, row.match_value);
        const event = { at: fromClickHouseTime(row.due_text), identifiers: row.identifiers };
        const slotted = events.get(key);
        if (slotted) slotted.push(event);
        else events.set(key, [event]);
      }
      for (const [index, timer] of timers.entries()) {
        const mine = new Set(keys[index]);
        const found = (events.get(slot(timer.destinationId, timer.rule, timer.matchValue)) ?? []).some(
          (event) =>
            event.at >= timer.startedAt && event.at <= timer.dueAt && event.identifiers.some((key) => mine.has(key)),
        );
        if (found) arrived.add(timer.timerId);
      }
      return arrived;
    },
    async existing(kind, timerIds) {
      if (timerIds.length === 0) return new Set();
      const result = await client.query(
        named('destinations.readTimerIds', {
          query:
            'SELECT DISTINCT timer_id FROM destination_timers WHERE kind = {kind:String} AND timer_id IN {ids:Array(String)}',
          query_params: { kind, ids: timerIds },
          format: 'JSONEachRow',
        }),
      );
      return new Set((await result.json<{ timer_id: string }>()).map((row) => row.timer_id));
    },
    settle: (timers) =>
      insert(
        'destinations.settleTimers',
        timers.map((timer) => toRow(timer, nextVersion())),
      ),
  };
}
