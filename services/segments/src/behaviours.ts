// Behaviour conditions (did / did not perform an event): their matching events, counted per survivor live or per pass.
import type { EventCondition, NotPerformedCondition, PropertyFilter } from '@cdp/schemas';
import { messagesPerSurvivor } from '@cdp/profiles';
import type { Binder } from './sql-values';

export type Behaviour = EventCondition | NotPerformedCondition;

/** What a behaviour counts: events named `event` matching every filter, in the last `withinDays` days (or ever). */
interface Counted {
  event: string;
  where: PropertyFilter[];
  withinDays: number | null;
}

const countedBy = (node: Behaviour): Counted => ({
  event: 'notPerformed' in node ? node.notPerformed : node.event,
  where: node.where ?? [],
  withinDays: node.withinDays ?? null,
});

/** Behaviours with the same key count the same events, whatever their bounds. */
export const behaviourKey = (node: Behaviour): string => JSON.stringify(countedBy(node));

/** The behaviour's name and window (cheap columns, for PREWHERE) and its property filters, all bound. */
function eventTests(binder: Binder, counted: Counted): { named: string; properties: string } {
  const named = [`event = ${binder.bind('String', counted.event)}`, `timestamp <= ${binder.now}`];
  if (counted.withinDays !== null) named.push(`timestamp >= ${binder.since(counted.withinDays)}`);
  const properties = counted.where.map((filter) =>
    binder.valueTest(`JSONExtractRaw(properties, ${binder.bind('String', filter.property)})`, filter),
  );
  return { named: named.join(' AND '), properties: properties.length > 0 ? properties.join(' AND ') : '1' };
}

/** Survivors whose count of the behaviour's events passes `having`, read from the current events. */
export function behaviourMembers(binder: Binder, node: Behaviour, having: (count: string) => string): string {
  const { named, properties } = eventTests(binder, countedBy(node));
  // The name and window go first (PREWHERE), so only their rows' JSON properties are read and parsed.
  const rows = `SELECT message_id, profile_id, inserted_at FROM events PREWHERE ${named} WHERE ${properties}`;
  return `(SELECT survivor FROM (${messagesPerSurvivor(rows, '', 'count() AS count')}) WHERE ${having('count')})`;
}

/** A pass counts at most this many behaviours, one bit of a UInt64 each; rules read any further ones live. */
export const countedPerPass = 64;

/**
 * `(survivor, behaviour_counts)`: per survivor, how many events each behaviour (by key, in order) counts, in one read
 * of the events they name; each event carries the behaviours it matches as bits. A survivor with none has no row.
 * `storedRows`, a condition on `profile_id`, limits the events read: it must keep every stored id of a survivor.
 */
export function behaviourCounts(binder: Binder, keys: string[], storedRows?: string): string {
  const counted = keys.map((key) => JSON.parse(key) as Counted);
  const tests = counted.map((each) => eventTests(binder, each));
  const windows = counted.map((each) => each.withinDays);
  const widest = windows.includes(null) ? null : Math.max(...(windows as number[]));
  const prewhere = [
    `event IN ${binder.bind('Array(String)', [...new Set(counted.map((each) => each.event))])}`,
    `timestamp <= ${binder.now}`,
  ];
  if (widest !== null) prewhere.push(`timestamp >= ${binder.since(widest)}`);
  // Only some profiles' events (the primary key finds them): a condition on the stored profile id.
  if (storedRows) prewhere.unshift(storedRows);
  const matched = tests
    .map((test, bit) => `if(${test.named} AND ${test.properties}, bitShiftLeft(toUInt64(1), ${bit}), 0)`)
    .join(' + ');
  const rows = `SELECT message_id, profile_id, inserted_at, ${matched} AS matched FROM events PREWHERE ${prewhere.join(' AND ')} WHERE matched != 0`;
  const counts = `[${tests.map((_, bit) => `countIf(bitTest(message.matched, ${bit}))`).join(', ')}] AS behaviour_counts`;
  return messagesPerSurvivor(rows, ', argMin(matched, inserted_at) AS matched', counts);
}
