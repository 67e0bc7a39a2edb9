// The four analytics questions the benchmark asks: each as an API request and as plain hand-written SQL over events.

/** One question: the API path and query, and the hand-written queries (run one after another) answering it. */
export interface Question {
  name: string;
  path: string;
  query: Record<string, string>;
  target: number | null;
  handWritten: string[];
  params: Record<string, string>;
  /** One headline number read from each answer, to show both answer the same question. */
  headline: { api: (body: Body) => number; handWritten: (results: Row[][]) => number };
}

type Body = Record<string, unknown> & {
  cohorts?: Array<{ size: number }>;
  customers?: number;
  totals?: { activeCustomers: number };
  periods?: Array<Record<string, number>>;
};
type Row = Record<string, unknown>;
const sumOf = (values: number[]) => values.reduce((total, value) => total + value, 0);

// Deduplicated by message_id (retries are copies, so filtering before the dedup keeps the same messages), each on
// its survivor profile. Only the columns a question needs are read.
const messages = (columns: string[], where: string) => `(
  SELECT if(m.survivor_id = '', e.stored_profile_id, m.survivor_id) AS profile_id, ${columns.map((column) => `e.first_${column} AS ${column}`).join(', ')}
  FROM (
    SELECT message_id, any(profile_id) AS stored_profile_id, ${columns.map((column) => `any(${column}) AS first_${column}`).join(', ')}
    FROM events WHERE ${where} GROUP BY message_id
  ) AS e
  LEFT JOIN (SELECT loser_id, survivor_id FROM profile_merges FINAL) AS m ON e.stored_profile_id = m.loser_id
)`;

const from = `toDateTime64({from:String}, 3, {tz:String})`;
const to = `toDateTime64({to:String}, 3, {tz:String})`;
const previousFrom = `fromUnixTimestamp64Milli(2 * toUnixTimestamp64Milli(${from}) - toUnixTimestamp64Milli(${to}), 'UTC')`;
const inWindow = `timestamp >= ${from} AND timestamp < ${to}`;
const weekOf = (instant: string) => `toStartOfWeek(toDate32(${instant}, {tz:String}), 1)`;
const weekListed = (week: string) => `${week} >= toDate32({fromDay:String}) AND ${week} < toDate32({toDay:String})`;
const purchase = `type = 'track' AND event = 'Order Completed'`;

// Qualifying messages: purchases for first_purchase cohorts, every message ('1') for first_seen.
const retentionSql = (qualifying: string) => `
  WITH qualifying AS (SELECT profile_id, ${weekOf('timestamp')} AS week FROM ${messages(['timestamp'], qualifying)}),
    cohorts AS (SELECT profile_id, min(week) AS cohort FROM qualifying GROUP BY profile_id)
  SELECT toString(cohort) AS cohort_week, intDiv(dateDiff('day', cohort, week), 7) AS k, uniqExact(profile_id) AS profiles
  FROM qualifying INNER JOIN cohorts USING (profile_id)
  WHERE ${weekListed('cohort')} AND k < 8
  GROUP BY cohort, k ORDER BY cohort, k`;

const repeatPurchaseSql = `
  SELECT
    count() AS customers, countIf(orders >= 2) AS repeat_customers, sum(orders) AS all_orders,
    countIf(orders = 1), countIf(orders = 2), countIf(orders = 3), countIf(orders = 4), countIf(orders >= 5),
    quantileExactInclusiveIf(0.5)((times[2] - times[1]) / 86400000, orders >= 2) AS median_days_to_second,
    quantileExactInclusiveArray(0.5)(arrayMap(gap -> gap / 86400000, arrayPopFront(arrayDifference(times)))) AS median_days_between
  FROM (
    SELECT profile_id, arraySort(groupArray(toUnixTimestamp64Milli(timestamp))) AS times, length(times) AS orders
    FROM ${messages(['timestamp'], `${purchase} AND ${inWindow}`)}
    GROUP BY profile_id
  )`;

// KPIs in three plain queries: customers (first message ever, so the whole history), the window's facts, ticket timings.
const kpiCustomersSql = `
  SELECT channel, countIf(active) AS active_customers, countIf(first_seen >= ${from} AND first_seen < ${to}) AS new_customers,
    countIf(before) AS active_before, countIf(before AND NOT active) AS churned
  FROM (
    SELECT channel, profile_id, min(timestamp) AS first_seen, max(${inWindow}) AS active,
      max(timestamp >= ${previousFrom} AND timestamp < ${from}) AS before
    FROM ${messages(['timestamp', 'channel'], '1')}
    ARRAY JOIN [CAST(channel, 'String'), ''] AS channel
    GROUP BY channel, profile_id
  )
  GROUP BY channel`;

const kpiFactsSql = `
  SELECT channel,
    countIf(event = 'Order Completed') AS orders,
    uniqExactIf(profile_id, event = 'Order Completed') AS purchasers,
    sumIf(coalesce(JSONExtract(properties, 'revenue', 'Nullable(Float64)'), JSONExtract(properties, 'total', 'Nullable(Float64)'), 0), event = 'Order Completed') AS revenue,
    countIf(survey = 'nps' AND score BETWEEN 0 AND 10) AS nps_responses,
    countIf(survey = 'nps' AND score BETWEEN 9 AND 10) - countIf(survey = 'nps' AND score BETWEEN 0 AND 6) AS net_promoters,
    countIf(survey = 'csat' AND score BETWEEN 1 AND 5) AS csat_responses, countIf(survey = 'csat' AND score >= 4 AND score <= 5) AS csat_satisfied,
    countIf(event = 'Ticket Opened') AS tickets,
    countIf(event = 'Ticket Opened' AND JSONExtractString(properties, 'type') = 'complaint') AS complaints
  FROM (
    SELECT *, JSONExtractString(properties, 'survey') AS survey, JSONExtract(properties, 'score', 'Nullable(Float64)') AS score
    FROM ${messages(['timestamp', 'channel', 'event', 'properties'], `type = 'track' AND event IN ('Order Completed', 'Survey Responded', 'Ticket Opened') AND ${inWindow}`)}
  )
  GROUP BY channel WITH ROLLUP`;

const kpiTicketsSql = `
  SELECT channel, quantileExactInclusive(0.5)(reply_minutes) AS median_first_response_minutes, quantileExactInclusive(0.5)(resolution_hours) AS median_resolution_hours
  FROM (
    SELECT opened.message_id, any(opened.channel) AS channel,
      (minIf(toNullable(later.at), later.follow_up = 'Ticket Replied' AND later.at >= opened.at) - any(opened.at)) / 60000 AS reply_minutes,
      (minIf(toNullable(later.at), later.follow_up = 'Ticket Resolved' AND later.at >= opened.at) - any(opened.at)) / 3600000 AS resolution_hours
    FROM (
      SELECT message_id, any(channel) AS channel, toUnixTimestamp64Milli(any(timestamp)) AS at, any(JSONExtractString(properties, 'ticket_id')) AS ticket_id
      FROM events WHERE type = 'track' AND event = 'Ticket Opened' AND ${inWindow} GROUP BY message_id
    ) AS opened
    INNER JOIN (
      SELECT message_id, any(event) AS follow_up, toUnixTimestamp64Milli(any(timestamp)) AS at, any(JSONExtractString(properties, 'ticket_id')) AS ticket_id
      FROM events WHERE type = 'track' AND event IN ('Ticket Replied', 'Ticket Resolved') GROUP BY message_id
    ) AS later ON opened.ticket_id = later.ticket_id
    WHERE opened.ticket_id != ''
    GROUP BY opened.message_id
  )
  GROUP BY channel WITH ROLLUP`;

const lifecycleSql = `
  SELECT toString(week) AS period_week, stage, count() AS profiles
  FROM (
    SELECT arrayJoin(arrayDistinct(arrayConcat(weeks, arrayMap(week -> addWeeks(week, 1), weeks)))) AS week,
      multiIf(NOT has(weeks, week), 'dormant', week = first_week, 'new', has(weeks, addWeeks(week, -1)), 'returning', 'resurrecting') AS stage
    FROM (
      SELECT profile_id, groupUniqArray(${weekOf('timestamp')}) AS weeks, arrayMin(weeks) AS first_week
      FROM ${messages(['timestamp'], '1')}
      GROUP BY profile_id
    )
  )
  WHERE ${weekListed('week')}
  GROUP BY week, stage ORDER BY week, stage`;

const twelveWeeks = { from: '2025-09-01', to: '2025-11-24' };
const threeMonths = { from: '2025-09-01', to: '2025-12-01' };
const oneMonth = { from: '2025-11-01', to: '2025-12-01' };
const sqlParams = (window: { from: string; to: string }, tz: string) => ({
  from: `${window.from} 00:00:00`,
  to: `${window.to} 00:00:00`,
  fromDay: window.from,
  toDay: window.to,
  tz,
});

/** Every question in UTC and in UTC+7. */
export function questions(): Question[] {
  return ['UTC', 'Asia/Ho_Chi_Minh'].flatMap((tz) => [
    ...(
      [
        ['first purchase', 'first_purchase', purchase],
        ['first seen', 'first_seen', '1'],
      ] as const
    ).map(([label, cohort, qualifying]) => ({
      name: `retention (${label}, 12 weekly cohorts × 8)`,
      path: '/v1/analytics/retention',
      query: { ...twelveWeeks, tz, cohort, period: 'week', periods: '8' },
      target: 500,
      handWritten: [retentionSql(qualifying)],
      params: sqlParams(twelveWeeks, tz),
      headline: {
        api: (body: Body) => sumOf((body.cohorts ?? []).map((entry) => entry.size)),
        handWritten: ([rows]: Row[][]) =>
          sumOf((rows ?? []).filter((row) => row.k === 0).map((row) => Number(row.profiles))),
      },
    })),
    {
      name: 'repeat purchase (3 months)',
      path: '/v1/analytics/repeat-purchase',
      query: { ...threeMonths, tz },
      target: 500,
      handWritten: [repeatPurchaseSql],
      params: sqlParams(threeMonths, tz),
      headline: { api: (body) => body.customers ?? NaN, handWritten: ([rows]) => Number(rows?.[0]?.customers) },
    },
    {
      name: 'KPIs with byChannel (1 month)',
      path: '/v1/analytics/kpis',
      query: { ...oneMonth, tz },
      target: 800,
      handWritten: [kpiCustomersSql, kpiFactsSql, kpiTicketsSql],
      params: sqlParams(oneMonth, tz),
      headline: {
        api: (body) => body.totals?.activeCustomers ?? NaN,
        handWritten: ([rows]) => Number(rows?.find((row) => row.channel === '')?.active_customers),
      },
    },
    {
      name: 'lifecycle (12 weeks)',
      path: '/v1/analytics/lifecycle',
      query: { ...twelveWeeks, tz, period: 'week' },
      target: null,
      handWritten: [lifecycleSql],
      params: sqlParams(twelveWeeks, tz),
      headline: {
        api: (body) =>
          sumOf(
            (body.periods ?? []).flatMap((period) => [
              period.new ?? 0,
              period.returning ?? 0,
              period.resurrecting ?? 0,
              period.dormant ?? 0,
            ]),
          ),
        handWritten: ([rows]) => sumOf((rows ?? []).map((row) => Number(row.profiles))),
      },
    },
  ]);
}
