// KPIs over a window, in total and per channel: customers, orders and revenue, churn, NPS, CSAT, tickets and their timings.
import type { ClickHouseClient } from '@cdp/runtime';
import { analyticsChannels, type KpisQuery, type KpisResponse, type KpiValues } from '@cdp/schemas';
import {
  firstSeenColumn,
  firstsInWindow,
  fromParam,
  medianOfSorted,
  ratio,
  rows,
  scopedTouchpoints,
  scopeParams,
  toParam,
  touchpointsPerSurvivor,
} from './scope';

// Every profile and message counts twice: once for its channel and once for the totals (channel ''). Each measure
// reads only what it needs of touchpoints and profile_firsts (0015_touchpoints.sql).

// Presence in the window and in the previous one of equal length, per survivor: bit 0 for any channel, bit i for
// channel i of analyticsChannels (every channel ingest assigns), so one pass over both windows answers every channel.
const channelBits = `bitOr(toUInt16(1), bitShiftLeft(toUInt16(1), indexOf({channels:Array(String)}, channel)))`;
const presenceQuery = `
  SELECT
    if(position = 0, '', {channels:Array(String)}[position]) AS channel,
    countIf(bitTest(now_mask, position)) AS active_customers,
    countIf(bitTest(before_mask, position)) AS active_before,
    countIf(bitTest(before_mask, position) AND NOT bitTest(now_mask, position)) AS churned
  FROM ${touchpointsPerSurvivor({ since: `{previousFrom:DateTime64(3, 'UTC')}`, until: toParam }, [
    { name: 'now_mask', perStored: `groupBitOrIf(${channelBits}, timestamp >= ${fromParam})`, combine: 'groupBitOr' },
    { name: 'before_mask', perStored: `groupBitOrIf(${channelBits}, timestamp < ${fromParam})`, combine: 'groupBitOr' },
  ])}
  ARRAY JOIN arrayFilter(position -> bitTest(bitOr(now_mask, before_mask), position), range(length({channels:Array(String)}) + 1)) AS position
  GROUP BY channel`;

// Profiles whose first message on any channel (first_seen), and on each channel (first_<channel>), is in the window.
const firstColumns = [undefined, ...analyticsChannels].map(firstSeenColumn);
const newCustomersQuery = `SELECT ${firstColumns
  .map((column, i) => `countIf(bitTest(inside, ${i}) AND NOT bitTest(before, ${i})) AS ${column}`)
  .join(', ')} FROM ${firstsInWindow(firstColumns)}`;

/**
 * How the counted rows are split: an expression over a touchpoint row (`channel`, `timestamp`) naming its group,
 * which may be an arrayJoin so a row counts in more than one group (its channel and the totals).
 */
export type Split = (row: { channel: string; timestamp: string }) => string;

/** Each row counts for its channel and for the totals (channel ''). */
const byChannelAndTotal: Split = ({ channel }) => `arrayJoin(['', CAST(${channel}, 'String')])`;

// An order's revenue in whole millionths, for an exact sum: a Float64 sum depends on the order the threads add it in,
// so its last digits changed between two answers over the same orders; an integer sum does not (nor does it lose cents
// over millions of orders). A revenue beyond ±1e24 (no currency's) counts as that bound: the sum of up to 1e8 such
// orders still fits the integer, and one whose millionths would be infinite (past 1.8e302) cannot fail the query.
const revenueMillionths = `toInt128(round(least(greatest(if(isNaN(revenue), 0, revenue), -1e24), 1e24) * 1000000))`;

// Orders, survey scores and tickets opened in the range, each message once, per group of the split.
export const factsQuery = (split: Split, range: { since: string; until: string }) => `
  SELECT
    ${split({ channel: 'channel', timestamp: 'timestamp' })} AS split,
    uniqExactIf(profile_id, kind = 'order') AS purchasers,
    countIf(kind = 'order') AS orders,
    sumIf(${revenueMillionths}, kind = 'order') / 1000000 AS revenue,
    countIf(kind = 'nps' AND score >= 0 AND score <= 10) AS nps_responses,
    countIf(kind = 'nps' AND score >= 9 AND score <= 10) AS promoters,
    countIf(kind = 'nps' AND score >= 0 AND score <= 6) AS detractors,
    countIf(kind = 'csat' AND score >= 1 AND score <= 5) AS csat_responses,
    countIf(kind = 'csat' AND score >= 4 AND score <= 5) AS csat_satisfied,
    countIf(kind = 'ticket_opened') AS tickets,
    countIf(complaint = 1) AS complaints
  FROM ${scopedTouchpoints({ kinds: ['order', 'nps', 'csat', 'ticket_opened'], ...range })}
  GROUP BY split`;

// Replies and resolutions are facts about a ticket, found by its ticket_id whoever sent them and on whichever
// channel: only the opening decides whether a ticket is in scope. The first of each at or after the opening counts;
// a repeated copy cannot change a first, so they are read without deduplication.

/** Per ticket_id of the given openings (a subquery with a ticket_id column), the times (epoch ms) of its replies and resolutions. */
export const ticketFollowUps = (ticketsOpened: string) => `(
  SELECT
    ticket_id,
    groupArrayIf(toUnixTimestamp64Milli(timestamp), kind = 'ticket_replied') AS replies,
    groupArrayIf(toUnixTimestamp64Milli(timestamp), kind = 'ticket_resolved') AS resolutions
  FROM touchpoints
  WHERE kind IN ('ticket_replied', 'ticket_resolved') AND ticket_id != '' AND ticket_id IN (SELECT ticket_id FROM ${ticketsOpened})
  GROUP BY ticket_id
)`;

export const ticketTimingsQuery = (split: Split, range: { since: string; until: string }) => {
  const ticketsOpened = scopedTouchpoints({ kinds: ['ticket_opened'], ...range });
  return `
  SELECT split, ${medianOfSorted('response_minutes')} AS median_first_response_minutes, ${medianOfSorted('resolution_hours')} AS median_resolution_hours
  FROM (
    SELECT
      split,
      arraySort(groupArray(first_response_minutes)) AS response_minutes,
      arraySort(groupArray(resolution_hours)) AS resolution_hours
    FROM (
      SELECT
        ${split({ channel: 'ticket.channel', timestamp: 'ticket.timestamp' })} AS split,
        arrayFilter(at -> at >= ticket.opened_at, follow_up.replies) AS later_replies,
        arrayFilter(at -> at >= ticket.opened_at, follow_up.resolutions) AS later_resolutions,
        if(empty(later_replies), NULL, (arrayMin(later_replies) - ticket.opened_at) / 60000) AS first_response_minutes,
        if(empty(later_resolutions), NULL, (arrayMin(later_resolutions) - ticket.opened_at) / 3600000) AS resolution_hours
      FROM (SELECT channel, ticket_id, timestamp, toUnixTimestamp64Milli(timestamp) AS opened_at FROM ${ticketsOpened}) AS ticket
      LEFT JOIN ${ticketFollowUps(ticketsOpened)} AS follow_up ON ticket.ticket_id = follow_up.ticket_id
    )
    GROUP BY split
  )`;
};

const window = { since: fromParam, until: toParam };

export interface PresenceRow {
  channel: string;
  active_customers: number;
  active_before: number;
  churned: number;
}

export interface FactsRow {
  split: string;
  purchasers: number;
  orders: number;
  revenue: number;
  nps_responses: number;
  promoters: number;
  detractors: number;
  csat_responses: number;
  csat_satisfied: number;
  tickets: number;
  complaints: number;
}

export interface TimingsRow {
  split: string;
  median_first_response_minutes: number | null;
  median_resolution_hours: number | null;
}

/** Everything known of one group: a channel ('' for the totals), or a period. */
export interface GroupCounts {
  presence?: Pick<PresenceRow, 'active_customers' | 'active_before' | 'churned'> | undefined;
  newCustomers?: number | undefined;
  facts?: FactsRow | undefined;
  timings?: TimingsRow | undefined;
}

const percent = (part: number, whole: number) => ratio(100 * part, whole);

export function kpiValuesOf({ presence, newCustomers, facts, timings }: GroupCounts): KpiValues {
  const f = facts ?? ({} as Partial<FactsRow>);
  const orders = f.orders ?? 0;
  const revenue = f.revenue ?? 0;
  return {
    activeCustomers: presence?.active_customers ?? 0,
    newCustomers: newCustomers ?? 0,
    orders,
    revenue,
    aov: ratio(revenue, orders),
    purchaseFrequency: ratio(orders, f.purchasers ?? 0),
    churnRate: ratio(presence?.churned ?? 0, presence?.active_before ?? 0),
    nps: percent((f.promoters ?? 0) - (f.detractors ?? 0), f.nps_responses ?? 0),
    npsResponses: f.nps_responses ?? 0,
    csat: percent(f.csat_satisfied ?? 0, f.csat_responses ?? 0),
    csatResponses: f.csat_responses ?? 0,
    tickets: f.tickets ?? 0,
    complaints: f.complaints ?? 0,
    medianFirstResponseMinutes: timings?.median_first_response_minutes ?? null,
    medianResolutionHours: timings?.median_resolution_hours ?? null,
  };
}

export async function kpis(client: ClickHouseClient, query: KpisQuery): Promise<KpisResponse> {
  const params = { ...scopeParams(query), channels: analyticsChannels };
  const presence = await rows<PresenceRow>(client, 'analytics.kpiPresence', presenceQuery, params);
  const [newCustomers] = await rows<Record<string, number>>(
    client,
    'analytics.kpiNewCustomers',
    newCustomersQuery,
    params,
  );
  const facts = await rows<FactsRow>(client, 'analytics.kpiFacts', factsQuery(byChannelAndTotal, window), params);
  const timings = await rows<TimingsRow>(
    client,
    'analytics.kpiTicketTimings',
    ticketTimingsQuery(byChannelAndTotal, window),
    params,
  );
  // Under a channel filter, the totals are that channel's: new customers are those whose first message there is new.
  const firstsColumn = (channel: string) => firstSeenColumn(channel === '' ? query.channel : channel);
  const countsOf = (channel: string): GroupCounts => ({
    presence: presence.find((row) => row.channel === channel),
    newCustomers: newCustomers?.[firstsColumn(channel)],
    facts: facts.find((row) => row.split === channel),
    timings: timings.find((row) => row.split === channel),
  });
  const channels = presence
    .filter((row) => row.channel !== '' && row.active_customers > 0)
    .map((row) => row.channel)
    .sort();
  return {
    totals: kpiValuesOf(countsOf('')),
    byChannel: channels.map((channel) => ({ channel, ...kpiValuesOf(countsOf(channel)) })),
  };
}
