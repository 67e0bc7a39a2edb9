// Conditions that flip with time alone ("seen within the last 30 days", "ordered within 30 days", "has not opened an
// email in 14 days"): between full passes, only the profiles whose window boundary passed since the previous sweep
// are evaluated again, not everyone.
import { joinSurvivors, keptCrossing, survivorOf, type DateStatColumn, type KeptCrossing } from '@cdp/profiles';
import { named, toClickHouseTime } from '@cdp/runtime';
import type { PropertyFilter, SegmentRule } from '@cdp/schemas';
import type { Behaviour } from './behaviours';
import { statColumnOf } from './compile';
import { reevaluateProfiles, type ReevaluationDeps } from './reevaluate';
import { dayMs } from './sql-values';

/** Survivors evaluated together: one evaluation of every segment covers them (as a batch of followed changes). */
const sweepSize = 5000;

/** A window measured back from now that a rule names, in days. */
type Boundary =
  | { stat: DateStatColumn; days: number }
  | { trait: string; days: number }
  /** A behaviour's events leave its window as they grow older than `days`. */
  | { event: string; days: number }
  /** A date property a behaviour's filter measures back from now, on its events (within `window` days, or ever). */
  | { event: string; property: string; days: number; window: number | null };

/** Every boundary the rules name, once each. */
export function boundariesOf(rules: SegmentRule[]): Boundary[] {
  const found = new Map<string, Boundary>();
  const add = (boundary: Boundary) => found.set(JSON.stringify(boundary), boundary);
  const filters = (event: string, where: PropertyFilter[] | undefined, window: number | null) => {
    for (const filter of where ?? [])
      if (filter.withinLastDays !== undefined)
        add({ event, property: filter.property, days: filter.withinLastDays, window });
  };
  const visit = (node: SegmentRule): void => {
    if ('and' in node) node.and.forEach(visit);
    else if ('or' in node) node.or.forEach(visit);
    else if ('not' in node) visit(node.not);
    else if ('stat' in node) {
      if (node.withinLastDays !== undefined)
        add({ stat: statColumnOf(node.stat) as DateStatColumn, days: node.withinLastDays });
    } else if ('trait' in node) {
      if (node.withinLastDays !== undefined) add({ trait: node.trait, days: node.withinLastDays });
    } else {
      const behaviour: Behaviour = node;
      const event = 'notPerformed' in behaviour ? behaviour.notPerformed : behaviour.event;
      if (behaviour.withinDays !== undefined) add({ event, days: behaviour.withinDays });
      filters(event, behaviour.where, behaviour.withinDays ?? null);
    }
  };
  rules.forEach(visit);
  return [...found.values()];
}

/**
 * Stored profile ids with events whose boundary passed in [from, to): events of the behaviour that left its window,
 * or whose date property left a filter's. Every event of the name counts, whatever its other filters: evaluating a
 * few profiles more than needed is cheaper than testing JSON properties here, and never wrong.
 */
function eventsCrossing(
  boundaries: Array<Extract<Boundary, { event: string }>>,
  from: number,
  to: number,
): { sql: string; params: Record<string, unknown> } | null {
  if (boundaries.length === 0) return null;
  const params: Record<string, unknown> = {};
  const time = (name: string, ms: number) => {
    params[name] = toClickHouseTime(ms);
    return `{${name}:DateTime64(3, 'UTC')}`;
  };
  const tests = boundaries.map((boundary, index) => {
    params[`event${index}`] = boundary.event;
    const named = `event = {event${index}:String}`;
    if (!('property' in boundary))
      return `(${named} AND timestamp >= ${time(`from${index}`, from - boundary.days * dayMs)} AND timestamp < ${time(`to${index}`, to - boundary.days * dayMs)})`;
    params[`property${index}`] = boundary.property;
    const date = `parseDateTime64BestEffortOrNull(JSONExtractString(properties, {property${index}:String}), 3, 'UTC')`;
    const window =
      boundary.window === null ? '' : ` AND timestamp >= ${time(`window${index}`, from - boundary.window * dayMs)}`;
    return `(${named}${window} AND ifNull(${date} >= ${time(`from${index}`, from - boundary.days * dayMs)} AND ${date} < ${time(`to${index}`, to - boundary.days * dayMs)}, 0))`;
  });
  params.names = [...new Set(boundaries.map((boundary) => boundary.event))];
  return {
    sql: `SELECT DISTINCT profile_id FROM events PREWHERE event IN {names:Array(String)} WHERE ${tests.join(' OR ')}`,
    params,
  };
}

/** The survivors whose boundaries passed in [from, to). */
export async function survivorsCrossing(
  deps: Pick<ReevaluationDeps, 'clickhouse'>,
  rules: SegmentRule[],
  from: number,
  to: number,
): Promise<string[]> {
  const boundaries = boundariesOf(rules);
  const kept: KeptCrossing[] = [];
  const events: Array<Extract<Boundary, { event: string }>> = [];
  for (const boundary of boundaries) {
    const crossing = { from: from - boundary.days * dayMs, to: to - boundary.days * dayMs };
    if ('stat' in boundary) kept.push({ ...crossing, column: boundary.stat });
    else if ('trait' in boundary) kept.push({ ...crossing, trait: boundary.trait });
    else events.push(boundary);
  }
  const survivors = new Set(await keptCrossing(deps.clickhouse, kept));
  const stored = eventsCrossing(events, from, to);
  if (stored) {
    const result = await deps.clickhouse.query(
      named('segments.survivorsCrossingWindows', {
        query: `SELECT DISTINCT ${survivorOf('crossed.profile_id')} AS survivor FROM (${stored.sql}) AS crossed ${joinSurvivors('crossed.profile_id')}`,
        query_params: stored.params,
        format: 'JSONEachRow',
      }),
    );
    for (const row of await result.json<{ survivor: string }>()) survivors.add(row.survivor);
  }
  return [...survivors].sort();
}

/**
 * Evaluates every segment again for the survivors whose boundaries passed in [from, to), a few thousand at a time,
 * each piece in its own turn and as seen when its turn comes (a full pass's turns may come first, and it leaves these
 * profiles to the piece: the piece must not judge them as of an earlier instant than the pass); returns how many.
 */
export async function sweepWindows(deps: ReevaluationDeps, from: number, to: number): Promise<number> {
  if (to <= from) return 0;
  const rules = (await deps.store.list()).map((definition) => definition.rule);
  const survivors = await deps.turns.run(() => survivorsCrossing(deps, rules, from, to));
  let swept = 0;
  for (let start = 0; start < survivors.length; start += sweepSize) {
    swept += await deps.turns.run(() =>
      reevaluateProfiles(deps, survivors.slice(start, start + sweepSize), [], Date.now()),
    );
  }
  return swept;
}
