// OpenAPI documentation of the analytics endpoints, derived from their zod schemas, with an example of each answer.
import { z } from 'zod';
import { documented, errorReply, jsonReply, queryLimitReplies, type JsonSchema } from '@cdp/runtime';
import {
  rfmGridResponse,
  openTicketsQuery,
  openTicketsResponse,
  surveysQuery,
  surveysResponse,
  ticketSeriesQuery,
  ticketSeriesResponse,
  kpiSeriesQuery,
  kpiSeriesResponse,
  kpisQuery,
  kpisResponse,
  lifecycleQuery,
  lifecycleResponse,
  repeatPurchaseQuery,
  repeatPurchaseResponse,
  retentionQuery,
  retentionResponse,
  type KpiValues,
} from '@cdp/schemas';
import { narrowRead } from '../narrowing';

// OpenAPI 3.0 is the document's dialect; a querystring validates through `validate`, which documents it as sent.
const answerOf = (schema: z.ZodType) => z.toJSONSchema(schema, { target: 'openapi-3.0' }) as JsonSchema;

const errors = {
  400: errorReply('A parameter is missing or wrong; `errors` names each one', [
    {
      code: 'INVALID_REQUEST',
      message: 'tz: must be an IANA time zone such as UTC or Asia/Ho_Chi_Minh',
      errors: [{ path: 'tz', message: 'must be an IANA time zone such as UTC or Asia/Ho_Chi_Minh' }],
    },
    {
      code: 'INVALID_REQUEST',
      message: 'to: must be later than from',
      errors: [{ path: 'to', message: 'must be later than from' }],
    },
  ]),
  500: errorReply('A fault of ours', [{ code: 'INTERNAL', message: 'internal error' }]),
  ...queryLimitReplies(narrowRead),
};

const scopeNote =
  'The window is `[from, to)` in `tz`. With `segment`, only the profiles currently in the segment count; with `channel`, only messages of that channel count, everywhere (the definitions are in the query API README). The same question within `CDP_ANALYTICS_CACHE_SECONDS` (30 s by default) shares one answer, served for as long again while the next is computed (and on until that one is done, when it began in that time, or up to ten times as long when that one failed), whose age the `Age` header gives in seconds; `Cache-Control: no-cache` asks for one computed now.';

const kpiExample: KpiValues = {
  activeCustomers: 1200,
  newCustomers: 310,
  orders: 540,
  revenue: 48_600,
  aov: 90,
  purchaseFrequency: 1.35,
  churnRate: 0.18,
  nps: 32.5,
  npsResponses: 80,
  csat: 87.5,
  csatResponses: 40,
  tickets: 75,
  complaints: 12,
  medianFirstResponseMinutes: 42,
  medianResolutionHours: 20.5,
};

export const kpisDoc = documented({
  summary: 'KPIs over a window, in total and per channel',
  description: `Customers, orders, revenue, churn, NPS, CSAT and support tickets. ${scopeNote}`,
  tags: ['analytics'],
  scope: 'analytics',
  validate: { querystring: kpisQuery },
  responses: {
    200: jsonReply('Totals and one entry per channel', answerOf(kpisResponse), {
      totals: kpiExample,
      byChannel: [{ channel: 'web', ...kpiExample }],
    }),
    ...errors,
  },
});

export const kpiSeriesDoc = documented({
  summary: 'Every KPI per day, week or month',
  description: `The KPIs of \`/v1/analytics/kpis\` for each calendar period starting in the window, each over its whole period; churn compares a period with the one before it. ${scopeNote}`,
  tags: ['analytics'],
  scope: 'analytics',
  validate: { querystring: kpiSeriesQuery },
  responses: {
    200: jsonReply('One entry per period, oldest first', answerOf(kpiSeriesResponse), {
      period: 'week',
      series: [
        { period: '2025-01-06', ...kpiExample },
        { period: '2025-01-13', ...kpiExample, orders: 512, revenue: 47_100 },
      ],
    }),
    ...errors,
  },
});

export const retentionDoc = documented({
  summary: 'Cohort retention',
  description: `Profiles grouped by the period of their first qualifying event ever; for each cohort starting in the window, how many have a qualifying event k periods later. ${scopeNote}`,
  tags: ['analytics'],
  scope: 'analytics',
  validate: { querystring: retentionQuery },
  responses: {
    200: jsonReply('One row per period starting in the window', answerOf(retentionResponse), {
      cohorts: [
        { cohort: '2025-01-06', size: 120, retained: [120, 46, 31, 27] },
        { cohort: '2025-01-13', size: 95, retained: [95, 40, 22, 0] },
      ],
    }),
    ...errors,
  },
});

export const repeatPurchaseDoc = documented({
  summary: 'Repeat purchase',
  description: `How many customers bought more than once in the window, how often, and how long they took to come back. ${scopeNote}`,
  tags: ['analytics'],
  scope: 'analytics',
  validate: { querystring: repeatPurchaseQuery },
  responses: {
    200: jsonReply('Repeat-purchase measures of the window', answerOf(repeatPurchaseResponse), {
      customers: 400,
      repeatCustomers: 110,
      orders: 560,
      repeatRate: 0.275,
      ordersPerCustomer: 1.4,
      distribution: { '1': 290, '2': 70, '3': 25, '4': 9, '5+': 6 },
      medianDaysToSecondPurchase: 12.5,
      medianDaysBetweenPurchases: 9.25,
    }),
    ...errors,
  },
});

export const lifecycleDoc = documented({
  summary: 'Lifecycle stages per period',
  description: `For each period starting in the window: profiles new (first message ever), returning (active in the period before too), resurrecting (back after at least one inactive period) and dormant (active in the period before, not in this one). ${scopeNote}`,
  tags: ['analytics'],
  scope: 'analytics',
  validate: { querystring: lifecycleQuery },
  responses: {
    200: jsonReply('One row per period starting in the window', answerOf(lifecycleResponse), {
      periods: [
        { period: '2025-01-06', new: 80, returning: 240, resurrecting: 35, dormant: 60 },
        { period: '2025-01-13', new: 72, returning: 251, resurrecting: 30, dormant: 49 },
      ],
    }),
    ...errors,
  },
});

export const ticketSeriesDoc = documented({
  summary: 'Tickets opened, replied and resolved per day, week or month',
  description: `Ticket Opened, Ticket Replied and Ticket Resolved events (each message once) and complaints, for each calendar period starting in the window, each over its whole period. ${scopeNote}`,
  tags: ['analytics'],
  scope: 'analytics',
  validate: { querystring: ticketSeriesQuery },
  responses: {
    200: jsonReply('One entry per period, oldest first', answerOf(ticketSeriesResponse), {
      period: 'day',
      series: [
        { period: '2025-03-03', opened: 14, replied: 12, resolved: 9, complaints: 3 },
        { period: '2025-03-04', opened: 11, replied: 13, resolved: 12, complaints: 1 },
      ],
    }),
    ...errors,
  },
});

const scores = (low: number, counts: number[]) => counts.map((responses, index) => ({ score: low + index, responses }));

export const surveysDoc = documented({
  summary: 'NPS and CSAT responses by score',
  description: `Survey Responded events of the window (each message once) by whole score, with the NPS and CSAT the KPIs give. ${scopeNote}`,
  tags: ['analytics'],
  scope: 'analytics',
  validate: { querystring: surveysQuery },
  responses: {
    200: jsonReply('Both surveys', answerOf(surveysResponse), {
      nps: { responses: 40, score: 25, distribution: scores(0, [1, 0, 1, 2, 1, 2, 3, 5, 5, 8, 12]) },
      csat: { responses: 30, score: 80, distribution: scores(1, [2, 1, 3, 10, 14]) },
    }),
    ...errors,
  },
});

export const openTicketsDoc = documented({
  summary: 'Tickets open now',
  description:
    'Tickets opened (with a ticket_id) and not resolved since, the oldest first, with their age and whether they breached the first-reply service level. With `segment`, only tickets of customers now in it; with `channel`, only tickets opened on it.',
  tags: ['analytics'],
  scope: 'analytics',
  validate: { querystring: openTicketsQuery },
  responses: {
    200: jsonReply('The count, the breaches, and the oldest open tickets', answerOf(openTicketsResponse), {
      slaHours: 24,
      total: 7,
      breached: 3,
      tickets: [
        {
          ticketId: 'T-1042',
          profileId: 'prf_3f2a',
          channel: 'chat',
          type: 'complaint',
          openedAt: '2025-03-01T08:00:00.000Z',
          ageHours: 50.2,
          firstReplyAt: null,
          breached: true,
        },
      ],
    }),
    ...errors,
  },
});

export const rfmGridDoc = documented({
  summary: 'The RFM grid',
  description:
    'Customers by RFM recency and frequency score (quintiles among profiles with an order, 5 the best) as the latest segment evaluation scored them: the inputs of the built-in RFM groups. Takes no parameters.',
  tags: ['analytics'],
  scope: 'analytics',
  responses: {
    200: jsonReply('Customers per score pair', answerOf(rfmGridResponse), {
      evaluatedAt: '2025-03-01T12:05:00.000Z',
      customers: 200,
      cells: [
        { recency: 1, frequency: 1, customers: 22 },
        { recency: 5, frequency: 5, customers: 17 },
      ],
    }),
    500: errors[500],
    503: errors[503],
  },
});
