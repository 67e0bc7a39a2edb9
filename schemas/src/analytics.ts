// Query parameters of the analytics endpoints, declared once: validation, their types, and the querystring's JSON schema.
import { z } from 'zod';
import { isKnownTimeZone, zonedInstant } from './zoned-time';

/** The touchpoint channels a client may state in `properties.channel`. */
export const statedChannels = ['web', 'app', 'email', 'sms', 'phone', 'social', 'chat', 'store'] as const;
/** Every channel ingest assigns (`properties.channel`, else the SDK context, else unknown). */
export const analyticsChannels = [...statedChannels, 'unknown'] as const;
export const analyticsPeriods = ['day', 'week', 'month'] as const;
export const retentionCohorts = ['first_purchase', 'first_seen'] as const;
export type AnalyticsPeriod = (typeof analyticsPeriods)[number];

export const maxRetentionPeriods = 60;
/** Most periods a retention or lifecycle window may list, so one request cannot ask for an unbounded answer. */
export const maxPeriodsInWindow = 1000;
const firstYear = 2000;
const lastYear = 2100;

const dayMs = 86_400_000;
/** The longest length of each period, for the bound above; the shortest, to know how many periods to generate. */
export const longestPeriodMs: Record<AnalyticsPeriod, number> = {
  day: 25 * 3_600_000,
  week: 7 * dayMs + 3_600_000,
  month: 31 * dayMs + 3_600_000,
};
const shortestPeriodMs: Record<AnalyticsPeriod, number> = {
  day: 23 * 3_600_000,
  week: 7 * dayMs - 3_600_000,
  month: 28 * dayMs - 3_600_000,
};

const boundaryPattern =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(Z|[+-]\d{2}:\d{2})?)?$/;

interface Boundary {
  wall: { year: number; month: number; day: number; hour: number; minute: number; second: number; millisecond: number };
  /** Minutes ahead of UTC when the text states an offset; null when it is a wall-clock time of `tz`. */
  offsetMinutes: number | null;
}

function parseBoundary(text: string): Boundary | null {
  const match = boundaryPattern.exec(text);
  if (!match) return null;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map((part) => Number(part ?? 0)) as number[];
  const millisecond = Number((match[7] ?? '').padEnd(3, '0'));
  const wall = { year: year!, month: month!, day: day!, hour: hour!, minute: minute!, second: second!, millisecond };
  const check = new Date(Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second));
  const real =
    check.getUTCFullYear() === wall.year &&
    check.getUTCMonth() === wall.month - 1 &&
    check.getUTCDate() === wall.day &&
    check.getUTCHours() === wall.hour &&
    check.getUTCMinutes() === wall.minute &&
    check.getUTCSeconds() === wall.second;
  if (!real || wall.year < firstYear || wall.year > lastYear) return null;
  const offset = match[8];
  if (offset === undefined) return { wall, offsetMinutes: null };
  if (offset === 'Z') return { wall, offsetMinutes: 0 };
  const minutes = Number(offset.slice(1, 3)) * 60 + Number(offset.slice(4, 6));
  return { wall, offsetMinutes: offset.startsWith('-') ? -minutes : minutes };
}

function instantOf(boundary: Boundary, timeZone: string): number {
  const { wall, offsetMinutes } = boundary;
  if (offsetMinutes === null) return zonedInstant(wall, timeZone);
  return (
    Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second, wall.millisecond) -
    offsetMinutes * 60_000
  );
}

const boundary = (role: string) =>
  z
    .string()
    .max(40)
    .refine(
      (text) => parseBoundary(text) !== null,
      `must be an ISO date (2025-01-31) or date-time (2025-01-31T08:00, optionally with Z or ±hh:mm) in the years ${firstYear}–${lastYear}`,
    )
    .describe(`${role}; a date or a date-time without offset is read on the clocks of \`tz\``);

const windowShape = {
  from: boundary('Start of the window, included'),
  to: boundary('End of the window, excluded'),
  tz: z
    .string()
    .max(64)
    .refine(isKnownTimeZone, 'must be an IANA time zone such as UTC or Asia/Ho_Chi_Minh')
    .default('UTC')
    .describe('IANA time zone of the dates and of day, week (from Monday) and month boundaries'),
  segment: z.string().min(1).max(256).optional().describe('Count only the profiles currently in this segment'),
  channel: z.enum(analyticsChannels).optional().describe('Count only messages of this channel'),
};

const periodField = (fallback: AnalyticsPeriod) =>
  z.enum(analyticsPeriods).default(fallback).describe('Calendar period in `tz`: day, week (Monday to Sunday) or month');

/** The window as instants (epoch milliseconds), once the texts are known to be valid. */
export interface ResolvedWindow {
  fromMs: number;
  toMs: number;
}

type WindowInput = { from: string; to: string; tz: string; period?: AnalyticsPeriod };

function resolveWindow<Q extends WindowInput>(query: Q, ctx: z.RefinementCtx): Q & ResolvedWindow {
  const fromMs = instantOf(parseBoundary(query.from) as Boundary, query.tz);
  const toMs = instantOf(parseBoundary(query.to) as Boundary, query.tz);
  if (fromMs >= toMs) ctx.addIssue({ code: 'custom', path: ['to'], message: 'must be later than from' });
  else if (query.period && (toMs - fromMs) / longestPeriodMs[query.period] > maxPeriodsInWindow) {
    ctx.addIssue({
      code: 'custom',
      path: ['to'],
      message: `the window may span at most ${maxPeriodsInWindow} ${query.period}s`,
    });
  }
  return { ...query, fromMs, toMs };
}

export const kpisQuery = z.object(windowShape).transform(resolveWindow);
export const repeatPurchaseQuery = z.object(windowShape).transform(resolveWindow);

export const lifecycleQuery = z.object({ ...windowShape, period: periodField('week') }).transform(resolveWindow);
export const kpiSeriesQuery = z.object({ ...windowShape, period: periodField('day') }).transform(resolveWindow);
export const ticketSeriesQuery = z.object({ ...windowShape, period: periodField('day') }).transform(resolveWindow);
export const surveysQuery = z.object(windowShape).transform(resolveWindow);

export const maxOpenTicketsListed = 500;
/** Open tickets are those of now: no window, only the scope and the service level to hold them to. */
export const openTicketsQuery = z.object({
  segment: windowShape.segment,
  channel: windowShape.channel.describe('Only tickets opened on this channel'),
  slaHours: z.coerce
    .number()
    .positive()
    .max(24 * 90)
    .default(24)
    .describe(
      'Hours within which a ticket must get its first reply; a ticket past it without one, or answered later, is a breach',
    ),
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(maxOpenTicketsListed)
    .default(50)
    .describe('How many of the oldest open tickets to list'),
});

export const retentionQuery = z
  .object({
    ...windowShape,
    cohort: z
      .enum(retentionCohorts)
      .default('first_seen')
      .describe(
        'first_purchase: cohorts by first Order Completed, retained by purchases; first_seen: by first message, retained by any message',
      ),
    period: periodField('week'),
    periods: z.coerce
      .number()
      .int()
      .min(1)
      .max(maxRetentionPeriods)
      .default(8)
      .describe('How many periods each cohort row covers, the cohort period itself included'),
  })
  .transform(resolveWindow);

export type KpisQuery = z.output<typeof kpisQuery>;
export type RepeatPurchaseQuery = z.output<typeof repeatPurchaseQuery>;
export type LifecycleQuery = z.output<typeof lifecycleQuery>;
export type KpiSeriesQuery = z.output<typeof kpiSeriesQuery>;
export type TicketSeriesQuery = z.output<typeof ticketSeriesQuery>;
export type SurveysQuery = z.output<typeof surveysQuery>;
export type OpenTicketsQuery = z.output<typeof openTicketsQuery>;
export type RetentionQuery = z.output<typeof retentionQuery>;

/** Enough candidate periods to cover any window of the given length, whatever DST does to a day or a month. */
export function periodsCovering(window: ResolvedWindow, period: AnalyticsPeriod): number {
  return Math.ceil((window.toMs - window.fromMs) / shortestPeriodMs[period]) + 2;
}
