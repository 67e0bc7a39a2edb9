// KPIs over a window, in total and per channel: customers, orders and revenue, churn, NPS, CSAT, tickets and their timings.
import type { ClickHouseClient } from '@cdp/runtime';
import type { KpisQuery, KpisResponse, KpiValues } from '@cdp/schemas';
import { fromParam, inWindow, medianOfSorted, ratio, resolvedMessages, rows, scopedMessages, scopeParams } from './scope';

// Every message counts twice: once for its channel and once for the totals (channel ''). Grouping per profile
// first gives the profile-level measures (active, new, churned, purchasing); message counts just add up.
const splitBy = (channel: string) => `ARRAY JOIN [(toUInt8(0), CAST(${channel}, 'String')), (toUInt8(1), '')] AS split`;

const kpiCountsQuery = `
  SELECT
    split.1 AS split_total,
    split.2 AS split_channel,
    countIf(is_active_now) AS active_customers,
    countIf(${inWindow('first_seen')}) AS new_customers,
    countIf(was_active_before) AS active_before,
    countIf(was_active_before AND NOT is_active_now) AS churned,
    countIf(profile_orders > 0) AS purchasers,
    sum(profile_orders) AS orders,
    sum(profile_revenue) AS revenue,
    sum(profile_nps_responses) AS nps_responses,
    sum(profile_promoters) AS promoters,
    sum(profile_detractors) AS detractors,
    sum(profile_csat_responses) AS csat_responses,
    sum(profile_csat_satisfied) AS csat_satisfied,
    sum(profile_tickets) AS tickets,
    sum(profile_complaints) AS complaints
  FROM (
    SELECT
      split,
      profile_id,
      min(timestamp) AS first_seen,
      countIf(in_window) > 0 AS is_active_now,
      countIf(timestamp >= {previousFrom:DateTime64(3, 'UTC')} AND timestamp < ${fromParam}) > 0 AS was_active_before,
      countIf(in_window AND is_purchase) AS profile_orders,
      sumIf(revenue, in_window AND is_purchase) AS profile_revenue,
      countIf(in_window AND survey = 'nps' AND score >= 0 AND score <= 10) AS profile_nps_responses,
      countIf(in_window AND survey = 'nps' AND score >= 9 AND score <= 10) AS profile_promoters,
      countIf(in_window AND survey = 'nps' AND score >= 0 AND score <= 6) AS profile_detractors,
      countIf(in_window AND survey = 'csat' AND score >= 1 AND score <= 5) AS profile_csat_responses,
      countIf(in_window AND survey = 'csat' AND score >= 4 AND score <= 5) AS profile_csat_satisfied,
      countIf(in_window AND is_ticket) AS profile_tickets,
      countIf(in_window AND is_complaint) AS profile_complaints
    FROM (SELECT *, split, ${inWindow('timestamp')} AS in_window FROM ${scopedMessages} ${splitBy('channel')})
    GROUP BY split, profile_id
  )
  GROUP BY split`;

// Replies and resolutions are facts about a ticket, found by its ticket_id whoever sent them and on whichever
// channel: only the opening decides whether a ticket is in scope. The first of each at or after the opening counts.
const ticketFollowUps = `(
  SELECT
    JSONExtractString(properties, 'ticket_id') AS ticket_id,
    groupArrayIf(toUnixTimestamp64Milli(timestamp), event = 'Ticket Replied') AS replies,
    groupArrayIf(toUnixTimestamp64Milli(timestamp), event = 'Ticket Resolved') AS resolutions
  FROM ${resolvedMessages(['Ticket Replied', 'Ticket Resolved'])}
  WHERE type = 'track' AND event IN ('Ticket Replied', 'Ticket Resolved') AND ticket_id != ''
  GROUP BY ticket_id
)`;

const ticketTimingsQuery = `
  SELECT split_total, split_channel, ${medianOfSorted('response_minutes')} AS median_first_response_minutes, ${medianOfSorted('resolution_hours')} AS median_resolution_hours
  FROM (
    SELECT
      split.1 AS split_total,
      split.2 AS split_channel,
      arraySort(groupArray(first_response_minutes)) AS response_minutes,
      arraySort(groupArray(resolution_hours)) AS resolution_hours
    FROM (
      SELECT
        ticket.channel AS ticket_channel,
        arrayFilter(at -> at >= ticket.opened_at, follow_up.replies) AS later_replies,
        arrayFilter(at -> at >= ticket.opened_at, follow_up.resolutions) AS later_resolutions,
        if(empty(later_replies), NULL, (arrayMin(later_replies) - ticket.opened_at) / 60000) AS first_response_minutes,
        if(empty(later_resolutions), NULL, (arrayMin(later_resolutions) - ticket.opened_at) / 3600000) AS resolution_hours
      FROM (
        SELECT channel, ticket_id, toUnixTimestamp64Milli(timestamp) AS opened_at
        FROM ${scopedMessages}
        WHERE is_ticket AND ${inWindow('timestamp')}
      ) AS ticket
      LEFT JOIN ${ticketFollowUps} AS follow_up ON ticket.ticket_id = follow_up.ticket_id
    )
    ${splitBy('ticket_channel')}
    GROUP BY split
  )`;

interface CountsRow {
  split_total: number;
  split_channel: string;
  active_customers: number;
  new_customers: number;
  active_before: number;
  churned: number;
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

interface TimingsRow {
  split_total: number;
  split_channel: string;
  median_first_response_minutes: number | null;
  median_resolution_hours: number | null;
}

const percent = (part: number, whole: number) => ratio(100 * part, whole);

function values(counts: CountsRow | undefined, timings: TimingsRow | undefined): KpiValues {
  const c = counts ?? ({} as Partial<CountsRow>);
  const orders = c.orders ?? 0;
  const revenue = c.revenue ?? 0;
  return {
    activeCustomers: c.active_customers ?? 0,
    newCustomers: c.new_customers ?? 0,
    orders,
    revenue,
    aov: ratio(revenue, orders),
    purchaseFrequency: ratio(orders, c.purchasers ?? 0),
    churnRate: ratio(c.churned ?? 0, c.active_before ?? 0),
    nps: percent((c.promoters ?? 0) - (c.detractors ?? 0), c.nps_responses ?? 0),
    npsResponses: c.nps_responses ?? 0,
    csat: percent(c.csat_satisfied ?? 0, c.csat_responses ?? 0),
    csatResponses: c.csat_responses ?? 0,
    tickets: c.tickets ?? 0,
    complaints: c.complaints ?? 0,
    medianFirstResponseMinutes: timings?.median_first_response_minutes ?? null,
    medianResolutionHours: timings?.median_resolution_hours ?? null,
  };
}

export async function kpis(client: ClickHouseClient, query: KpisQuery): Promise<KpisResponse> {
  const params = scopeParams(query);
  const counts = await rows<CountsRow>(client, kpiCountsQuery, params);
  const timings = await rows<TimingsRow>(client, ticketTimingsQuery, params);
  const timingsOf = (isTotal: number, channel: string) => timings.find((row) => row.split_total === isTotal && row.split_channel === channel);
  const channels = counts.filter((row) => row.split_total === 0 && row.active_customers > 0).sort((a, b) => (a.split_channel < b.split_channel ? -1 : 1));
  return {
    totals: values(counts.find((row) => row.split_total === 1), timingsOf(1, '')),
    byChannel: channels.map((row) => ({ channel: row.split_channel, ...values(row, timingsOf(0, row.split_channel)) })),
  };
}
