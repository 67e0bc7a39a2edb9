// GET /v1/analytics/{kpis,kpis/series,retention,repeat-purchase,lifecycle,tickets,surveys,open-tickets,rfm}: named ClickHouse queries behind a read key and zod-checked parameters.
import type { FastifyInstance } from 'fastify';
import type { z } from 'zod';
import { AppError, named, type ClickHouseClient, type documented } from '@cdp/runtime';
import { kpiSeriesQuery, kpisQuery, lifecycleQuery, openTicketsQuery, surveysQuery, ticketSeriesQuery, repeatPurchaseQuery, retentionQuery } from '@cdp/schemas';
import { latestRfmGrid } from '@cdp/segments';
import { openTicketsNow, surveys, ticketSeries } from '../analytics/care';
import { kpiSeries } from '../analytics/kpi-series';
import { kpis } from '../analytics/kpis';
import { lifecycle } from '../analytics/lifecycle';
import { repeatPurchase } from '../analytics/repeat-purchase';
import { retention } from '../analytics/retention';
import { kpiSeriesDoc, kpisDoc, openTicketsDoc, rfmGridDoc, surveysDoc, ticketSeriesDoc, lifecycleDoc, repeatPurchaseDoc, retentionDoc } from './analytics-docs';

interface ParameterProblem {
  path: string;
  message: string;
}

function invalid(problems: ParameterProblem[]): AppError {
  return new AppError('INVALID_REQUEST', problems.map((problem) => `${problem.path}: ${problem.message}`).join('; '), problems);
}

function parse<S extends z.ZodType>(schema: S, query: unknown): z.output<S> {
  const result = schema.safeParse(query ?? {});
  if (result.success) return result.data;
  throw invalid(result.error.issues.map((issue) => ({ path: issue.path.join('.') || 'query', message: issue.message })));
}

const timeZonesQuery = 'SELECT time_zone FROM system.time_zones';

export function analyticsRoutes(app: FastifyInstance, deps: { clickhouse: ClickHouseClient }): void {
  // The zod schema checks a zone against the runtime's own data; ClickHouse does the calendar arithmetic, so it
  // must know the exact name too (it reads names case-sensitively, Intl does not). Its list never changes while it runs.
  let clickhouseZones: Set<string> | null = null;
  async function checkTimeZone(tz: string): Promise<void> {
    if (!clickhouseZones) {
      const result = await deps.clickhouse.query(named('analytics.readTimeZones', { query: timeZonesQuery, format: 'JSONEachRow' }));
      clickhouseZones = new Set((await result.json<{ time_zone: string }>()).map((zone) => zone.time_zone));
    }
    if (!clickhouseZones.has(tz)) throw invalid([{ path: 'tz', message: `ClickHouse does not know the time zone ${tz}; IANA names are case-sensitive` }]);
  }

  function route<S extends z.ZodType<{ tz: string }>, R>(
    path: string,
    doc: ReturnType<typeof documented>,
    schema: S,
    answer: (client: ClickHouseClient, query: z.output<S>) => Promise<R>,
  ): void {
    app.get(path, doc, async (request) => {
      const query = parse(schema, request.query);
      await checkTimeZone(query.tz);
      return answer(deps.clickhouse, query);
    });
  }

  route('/v1/analytics/kpis', kpisDoc, kpisQuery, kpis);
  route('/v1/analytics/kpis/series', kpiSeriesDoc, kpiSeriesQuery, kpiSeries);
  route('/v1/analytics/retention', retentionDoc, retentionQuery, retention);
  route('/v1/analytics/repeat-purchase', repeatPurchaseDoc, repeatPurchaseQuery, repeatPurchase);
  route('/v1/analytics/lifecycle', lifecycleDoc, lifecycleQuery, lifecycle);
  route('/v1/analytics/tickets', ticketSeriesDoc, ticketSeriesQuery, ticketSeries);
  route('/v1/analytics/surveys', surveysDoc, surveysQuery, surveys);
  // Open tickets are those of now: no window, so no zone to check.
  app.get('/v1/analytics/open-tickets', openTicketsDoc, async (request) => {
    return openTicketsNow(deps.clickhouse, parse(openTicketsQuery, request.query));
  });
  app.get('/v1/analytics/rfm', rfmGridDoc, async () => {
    return latestRfmGrid(deps.clickhouse);
  });
}
