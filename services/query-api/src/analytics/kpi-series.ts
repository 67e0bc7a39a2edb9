// Every KPI per calendar period (day, week or month in the request's zone): the overview's charts, for analysts too.
import type { ClickHouseClient } from '@cdp/runtime';
import type { KpiSeriesQuery, KpiSeriesResponse } from '@cdp/schemas';
import { factsQuery, kpiValuesOf, ticketTimingsQuery, type FactsRow, type Split, type TimingsRow } from './kpis';
import { firstPeriod, lastPeriod, periodStart, seriesOf, seriesRange } from './periods';
import { activePeriods, firstsSince, periodAfter, periodOf, rows, touchpointsPerSurvivor } from './scope';

// Churn compares a period with the one before it, so activity is read from that one on.

/** Each row counts in the period holding its time. */
const byPeriod: Split = ({ timestamp }) => `toString(${periodOf(timestamp)})`;

// A survivor is looked at in every period it was active in and in the period after each (where it may have churned).
const presenceQuery = `
  SELECT
    toString(day) AS split,
    countIf(has(active, day)) AS active_customers,
    countIf(has(active, ${periodAfter('day', '-1')})) AS active_before,
    countIf(NOT has(active, day)) AS churned
  FROM (
    SELECT active, arrayJoin(arrayDistinct(arrayConcat(active, arrayMap(active_day -> ${periodAfter('active_day', '1')}, active)))) AS day
    FROM ${touchpointsPerSurvivor({ since: periodStart(periodAfter(firstPeriod, '-1')), until: seriesRange.until }, [activePeriods])}
  )
  WHERE day >= ${firstPeriod} AND day <= ${lastPeriod}
  GROUP BY day`;

const newCustomersQuery = (channel: string | undefined) => `
  SELECT toString(${periodOf('first')}) AS split, count() AS new_customers
  FROM ${firstsSince(seriesRange.since, channel)}
  WHERE first < ${seriesRange.until}
  GROUP BY split`;

interface PresenceRow {
  split: string;
  active_customers: number;
  active_before: number;
  churned: number;
}

export async function kpiSeries(client: ClickHouseClient, query: KpiSeriesQuery): Promise<KpiSeriesResponse> {
  const { periods, params } = await seriesOf(client, query, query.period);
  if (periods.length === 0) return { period: query.period, series: [] };
  const presence = await rows<PresenceRow>(client, 'analytics.kpiSeriesPresence', presenceQuery, params, true);
  const fresh = await rows<{ split: string; new_customers: number }>(
    client,
    'analytics.kpiSeriesNewCustomers',
    newCustomersQuery(query.channel),
    params,
    true,
  );
  const facts = await rows<FactsRow>(
    client,
    'analytics.kpiSeriesFacts',
    factsQuery(byPeriod, seriesRange),
    params,
    true,
  );
  const timings = await rows<TimingsRow>(
    client,
    'analytics.kpiSeriesTicketTimings',
    ticketTimingsQuery(byPeriod, seriesRange),
    params,
    true,
  );
  const of = <R extends { split: string }>(list: R[], period: string) => list.find((row) => row.split === period);
  return {
    period: query.period,
    series: periods.map((period) => ({
      period,
      ...kpiValuesOf({
        presence: of(presence, period),
        newCustomers: of(fresh, period)?.new_customers,
        facts: of(facts, period),
        timings: of(timings, period),
      }),
    })),
  };
}
