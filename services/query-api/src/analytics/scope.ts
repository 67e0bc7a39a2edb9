// What every analytics query shares: the messages in scope (segment, channel), calendar periods in a zone, medians.
import { toClickHouseTime, type ClickHouseClient } from '@cdp/runtime';
import type { ResolvedWindow } from '@cdp/schemas';

/** The filters and window every analytics request carries, validated. */
export interface Scope extends ResolvedWindow {
  tz: string;
  segment?: string | undefined;
  channel?: string | undefined;
}

/** DateTime64's first instant: a previous window reaching further back holds nothing more. */
const earliestInstant = Date.UTC(1900, 0, 1);

/** Bound parameters of the scope: the window as instants, the zone, and '' for a filter not asked for. */
export function scopeParams(scope: Scope): Record<string, unknown> {
  return {
    from: toClickHouseTime(scope.fromMs),
    to: toClickHouseTime(scope.toMs),
    previousFrom: toClickHouseTime(Math.max(earliestInstant, scope.fromMs - (scope.toMs - scope.fromMs))),
    tz: scope.tz,
    segment: scope.segment ?? '',
    channel: scope.channel ?? '',
  };
}

export const fromParam = `{from:DateTime64(3, 'UTC')}`;
export const toParam = `{to:DateTime64(3, 'UTC')}`;
export const inWindow = (instant: string) => `(${instant} >= ${fromParam} AND ${instant} < ${toParam})`;

// A segment's members are the profiles whose latest membership row says so. Membership rows name survivors, but a
// merge that happened after the segment was last evaluated is followed here too, so a member is never lost to it.
const segmentMembers = `
  SELECT if(merge.survivor_id = '', member.profile_id, merge.survivor_id)
  FROM (
    SELECT profile_id FROM segment_membership
    WHERE segment_id = {segment:String}
    GROUP BY profile_id
    HAVING argMax(is_member, version) = 1
  ) AS member
  LEFT JOIN (SELECT loser_id, survivor_id FROM profile_merges FINAL) AS merge ON member.profile_id = merge.loser_id`;

/** The track events a question may be limited to; each reads resolved_track_events (0014) instead of every message. */
export type TrackEvent = 'Order Completed' | 'Ticket Replied' | 'Ticket Resolved';

/** Every accepted message once on its survivor profile, or, given event names, only those track events (far cheaper). */
export const resolvedMessages = (only?: readonly TrackEvent[]) =>
  only ? `resolved_track_events(events = [${only.map((event) => `'${event}'`).join(', ')}])` : 'resolved_events';

/**
 * Every accepted message once, on its survivor profile (resolved_events), kept when it is of the requested channel
 * and its profile is in the requested segment. Purchases, survey scores and ticket ids are read out once here.
 * With event names, the same for those track events alone.
 */
export const scopedMessagesOf = (only?: readonly TrackEvent[]) => `(
  SELECT
    profile_id,
    message_id,
    event,
    channel,
    timestamp,
    type = 'track' AND event = 'Order Completed' AS is_purchase,
    -- the same reading of an order's amount as the profile stats (0011_profile_stats.sql)
    if(is_purchase, coalesce(JSONExtract(properties, 'revenue', 'Nullable(Float64)'), JSONExtract(properties, 'total', 'Nullable(Float64)'), 0), 0) AS revenue,
    if(type = 'track' AND event = 'Survey Responded', JSONExtractString(properties, 'survey'), '') AS survey,
    -- a score and a ticket id only count on a survey response and an opened ticket: the JSON of other messages is not parsed
    if(survey != '' AND JSONType(properties, 'score') IN ('Int64', 'UInt64', 'Double'), JSONExtractFloat(properties, 'score'), NULL) AS score,
    type = 'track' AND event = 'Ticket Opened' AS is_ticket,
    is_ticket AND JSONExtractString(properties, 'type') = 'complaint' AS is_complaint,
    if(is_ticket, JSONExtractString(properties, 'ticket_id'), '') AS ticket_id
  FROM ${resolvedMessages(only)}
  WHERE ({channel:String} = '' OR channel = {channel:String})
    AND ({segment:String} = '' OR profile_id IN (${segmentMembers}))
)`;

export const scopedMessages = scopedMessagesOf();
/** The scoped purchases (track `Order Completed`), for questions about nothing else. */
export const scopedPurchases = scopedMessagesOf(['Order Completed']);

/**
 * Settings of every query that does calendar arithmetic: Date32 results throughout, so a client's timestamp far
 * in the past or future lands in its own period instead of wrapping around the 16-bit Date range.
 */
export const calendarSettings = { enable_extended_results_for_datetime_functions: 1 } as const;

const periodParam = '{period:String}';

/** The first day (in the zone) of the calendar period holding the instant; weeks start on Monday. */
export const periodOf = (instant: string) => `multiIf(
    ${periodParam} = 'day', toDate32(${instant}, {tz:String}),
    ${periodParam} = 'week', toStartOfWeek(toDate32(${instant}, {tz:String}), 1),
    toStartOfMonth(toDate32(${instant}, {tz:String})))`;

/** The first day of the period `steps` periods after the one starting on `day` (before, when negative). */
export const periodAfter = (day: string, steps: string) => `multiIf(
    ${periodParam} = 'day', addDays(${day}, ${steps}),
    ${periodParam} = 'week', addWeeks(${day}, ${steps}),
    addMonths(${day}, ${steps}))`;

/** How many periods lie from the one starting on `first` to the one starting on `later`. */
export const periodsBetween = (first: string, later: string) =>
  `if(${periodParam} = 'month', dateDiff('month', ${first}, ${later}), intDiv(dateDiff('day', ${first}, ${later}), if(${periodParam} = 'week', 7, 1)))`;

/** Whether the period starting on `day` starts inside the window (its midnight in the zone, as an instant). */
export const periodStartsInWindow = (day: string) => inWindow(`toDateTime64(${day}, 3, {tz:String})`);

/** The median of a sorted array: the middle value, or the mean of the two middle ones; NULL when it is empty. */
export const medianOfSorted = (sorted: string) =>
  `if(empty(${sorted}), NULL, (${sorted}[intDiv(length(${sorted}) + 1, 2)] + ${sorted}[intDiv(length(${sorted}), 2) + 1]) / 2)`;

export async function rows<T>(client: ClickHouseClient, query: string, params: Record<string, unknown>, calendar = false): Promise<T[]> {
  const result = await client.query({ query, query_params: params, format: 'JSONEachRow', ...(calendar ? { clickhouse_settings: calendarSettings } : {}) });
  return result.json<T>();
}

/** A ratio that is null rather than infinite or NaN when there is nothing to divide by. */
export const ratio = (numerator: number, denominator: number): number | null => (denominator === 0 ? null : numerator / denominator);
