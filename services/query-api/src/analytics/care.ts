// Customer care beyond the KPIs: tickets opened, replied and resolved per period, survey score distributions, and the tickets open now.
import type { ClickHouseClient } from '@cdp/runtime';
import type {
  OpenTicketsQuery,
  OpenTicketsResponse,
  SurveysQuery,
  SurveysResponse,
  TicketSeriesQuery,
  TicketSeriesResponse,
} from '@cdp/schemas';
import { ticketFollowUps } from './kpis';
import { seriesOf, seriesRange } from './periods';
import { fromParam, periodOf, rows, scopedTouchpoints, scopeParams, toParam } from './scope';

const ticketSeriesQuery = `
  SELECT
    toString(${periodOf('timestamp')}) AS period,
    countIf(kind = 'ticket_opened') AS opened,
    countIf(kind = 'ticket_replied') AS replied,
    countIf(kind = 'ticket_resolved') AS resolved,
    countIf(complaint = 1) AS complaints
  FROM ${scopedTouchpoints({ kinds: ['ticket_opened', 'ticket_replied', 'ticket_resolved'], ...seriesRange })}
  GROUP BY period`;

/** Ticket events per calendar period starting in the window, each period whole, each message once. */
export async function ticketSeries(client: ClickHouseClient, query: TicketSeriesQuery): Promise<TicketSeriesResponse> {
  const { periods, params } = await seriesOf(client, query, query.period);
  if (periods.length === 0) return { period: query.period, series: [] };
  const counted = new Map(
    (
      await rows<{ period: string; opened: number; replied: number; resolved: number; complaints: number }>(
        client,
        'analytics.ticketSeries',
        ticketSeriesQuery,
        params,
        true,
      )
    ).map((row) => [row.period, row]),
  );
  return {
    period: query.period,
    series: periods.map((period) => {
      const row = counted.get(period);
      return {
        period,
        opened: row?.opened ?? 0,
        replied: row?.replied ?? 0,
        resolved: row?.resolved ?? 0,
        complaints: row?.complaints ?? 0,
      };
    }),
  };
}

const surveysQueryText = `
  SELECT kind, toInt32(floor(score)) AS whole, count() AS responses
  FROM ${scopedTouchpoints({ kinds: ['nps', 'csat'], since: fromParam, until: toParam })}
  WHERE (kind = 'nps' AND score >= 0 AND score <= 10) OR (kind = 'csat' AND score >= 1 AND score <= 5)
  GROUP BY kind, whole`;

/** NPS and CSAT responses of the window by whole score, with the scores the KPIs give. */
export async function surveys(client: ClickHouseClient, query: SurveysQuery): Promise<SurveysResponse> {
  const counted = await rows<{ kind: 'nps' | 'csat'; whole: number; responses: number }>(
    client,
    'analytics.surveys',
    surveysQueryText,
    scopeParams(query),
  );
  const answer = (
    kind: 'nps' | 'csat',
    low: number,
    high: number,
    score: (responsesOf: (test: (whole: number) => boolean) => number, total: number) => number,
  ) => {
    const mine = counted.filter((row) => row.kind === kind);
    const responsesOf = (test: (whole: number) => boolean) =>
      mine.filter((row) => test(row.whole)).reduce((sum, row) => sum + row.responses, 0);
    const total = responsesOf(() => true);
    return {
      responses: total,
      score: total === 0 ? null : score(responsesOf, total),
      distribution: Array.from({ length: high - low + 1 }, (_, index) => ({
        score: low + index,
        responses: responsesOf((whole) => whole === low + index),
      })),
    };
  };
  return {
    nps: answer('nps', 0, 10, (of, total) => (100 * (of((whole) => whole >= 9) - of((whole) => whole <= 6))) / total),
    csat: answer('csat', 1, 5, (of, total) => (100 * of((whole) => whole >= 4)) / total),
  };
}

// A ticket is open while no resolution of its ticket_id came at or after its opening; one without a ticket_id can
// never be followed up, so it is not listed. The count and the breaches cover every open ticket, the list the oldest.
const openTickets = scopedTouchpoints({ kinds: ['ticket_opened'] });
const openTicketsQueryText = `
  SELECT
    message_id, stored_profile_id, ticket_id, profile_id, channel, opened_at, first_reply_at,
    (ifNull(first_reply_at, {now:Int64}) - opened_at) > {slaMs:Int64} AS breached,
    count() OVER () AS total,
    countIf((ifNull(first_reply_at, {now:Int64}) - opened_at) > {slaMs:Int64}) OVER () AS breached_total
  FROM (
    SELECT
      ticket.message_id AS message_id, ticket.ticket_id AS ticket_id, ticket.profile_id AS profile_id,
      toString(ticket.channel) AS channel, ticket.opened_at AS opened_at,
      arrayFilter(at -> at >= ticket.opened_at, follow_up.replies) AS later_replies,
      if(empty(later_replies), NULL, arrayMin(later_replies)) AS first_reply_at,
      ticket.stored_profile_id AS stored_profile_id
    FROM (SELECT message_id, stored_profile_id, ticket_id, profile_id, channel, toUnixTimestamp64Milli(timestamp) AS opened_at FROM ${openTickets} WHERE ticket_id != '') AS ticket
    LEFT JOIN ${ticketFollowUps(openTickets)} AS follow_up ON ticket.ticket_id = follow_up.ticket_id
    WHERE empty(arrayFilter(at -> at >= ticket.opened_at, follow_up.resolutions))
  )
  ORDER BY opened_at, message_id
  LIMIT {limit:UInt32}`;

// The type is in the opening's JSON only; the few listed openings are read by the events table's key.
const ticketTypesQuery = `
  SELECT message_id, JSONExtractString(properties, 'type') AS type
  FROM events
  WHERE profile_id IN {profiles:Array(String)} AND message_id IN {messages:Array(String)}
  LIMIT 1 BY message_id`;

interface OpenTicketRow {
  message_id: string;
  stored_profile_id: string;
  ticket_id: string;
  profile_id: string;
  channel: string;
  opened_at: number;
  first_reply_at: number | null;
  breached: number;
  total: number;
  breached_total: number;
}

/** Tickets open now, the oldest first, with their age and whether they breached the first-reply service level. */
export async function openTicketsNow(
  client: ClickHouseClient,
  query: OpenTicketsQuery,
  now = Date.now(),
): Promise<OpenTicketsResponse> {
  const params = {
    segment: query.segment ?? '',
    channel: query.channel ?? '',
    now,
    slaMs: Math.round(query.slaHours * 3_600_000),
    limit: query.limit,
  };
  const open = await rows<OpenTicketRow>(client, 'analytics.openTickets', openTicketsQueryText, params);
  const keys = {
    profiles: [...new Set(open.map((row) => row.stored_profile_id))],
    messages: open.map((row) => row.message_id),
  };
  const types = new Map(
    open.length === 0
      ? []
      : (await rows<{ message_id: string; type: string }>(client, 'analytics.ticketTypes', ticketTypesQuery, keys)).map(
          (row) => [row.message_id, row.type],
        ),
  );
  const iso = (epochMs: number) => new Date(Number(epochMs)).toISOString();
  return {
    slaHours: query.slaHours,
    total: Number(open[0]?.total ?? 0),
    breached: Number(open[0]?.breached_total ?? 0),
    tickets: open.map((row) => ({
      ticketId: row.ticket_id,
      profileId: row.profile_id,
      channel: row.channel,
      type: types.get(row.message_id) ?? '',
      openedAt: iso(row.opened_at),
      ageHours: (now - Number(row.opened_at)) / 3_600_000,
      firstReplyAt: row.first_reply_at === null ? null : iso(row.first_reply_at),
      breached: Number(row.breached) === 1,
    })),
  };
}
