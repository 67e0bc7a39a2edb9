// Answers of the analytics endpoints: their types for the code and their JSON schemas for the API's documentation.
import { z } from 'zod';

const count = (description: string) => z.number().int().min(0).describe(description);
const nullableNumber = (description: string) =>
  z.number().nullable().describe(`${description}; null when there is nothing to measure`);

export const kpiValues = z.object({
  activeCustomers: count('Profiles with at least one message in the window'),
  newCustomers: count('Profiles whose first message ever is in the window'),
  orders: count('Order Completed events in the window'),
  revenue: z.number().describe('Sum of their revenue (properties.revenue, else properties.total)'),
  aov: nullableNumber('Average order value: revenue / orders'),
  purchaseFrequency: nullableNumber('Orders / profiles with at least one order in the window'),
  churnRate: nullableNumber(
    'Share (0–1) of the profiles active in the previous window of equal length that are not active in this one',
  ),
  nps: nullableNumber('Net promoter score, −100 to 100: % of nps scores 9–10 minus % of scores 0–6'),
  npsResponses: count('Survey Responded events with survey "nps" and a score from 0 to 10'),
  csat: nullableNumber('% of csat scores that are 4 or 5 (of 1–5)'),
  csatResponses: count('Survey Responded events with survey "csat" and a score from 1 to 5'),
  tickets: count('Ticket Opened events in the window'),
  complaints: count('Those with type "complaint"'),
  medianFirstResponseMinutes: nullableNumber(
    'Median minutes from a ticket opened in the window to its first Ticket Replied',
  ),
  medianResolutionHours: nullableNumber('Median hours from a ticket opened in the window to its Ticket Resolved'),
});
export type KpiValues = z.output<typeof kpiValues>;

export const kpisResponse = z.object({
  totals: kpiValues,
  byChannel: z
    .array(kpiValues.extend({ channel: z.string() }))
    .describe(
      'One entry per channel with a message in the window, by channel name; each is what ?channel= of it answers',
    ),
});
export type KpisResponse = z.output<typeof kpisResponse>;

/** An answer with one entry per calendar period starting in the window, each measured over its whole length. */
const periodSeries = <S extends z.ZodRawShape>(entry: S) =>
  z.object({
    period: z.enum(['day', 'week', 'month']).describe('The calendar period of each entry'),
    series: z
      .array(z.object({ period: z.string().describe('First day (YYYY-MM-DD, in tz) of the period'), ...entry }))
      .describe(
        'Every period starting in the window, oldest first, each measured over its whole length, empty ones included',
      ),
  });

export const kpiSeriesResponse = periodSeries({
  ...kpiValues.shape,
  churnRate: z
    .number()
    .nullable()
    .describe(
      'Share (0–1) of the profiles active in the period before that are not active in this one; null when none was',
    ),
});
export type KpiSeriesResponse = z.output<typeof kpiSeriesResponse>;

export const ticketSeriesResponse = periodSeries({
  opened: count('Ticket Opened events in the period'),
  replied: count('Ticket Replied events in the period'),
  resolved: count('Ticket Resolved events in the period'),
  complaints: count('Ticket Opened events with type "complaint" in the period'),
});
export type TicketSeriesResponse = z.output<typeof ticketSeriesResponse>;

const surveyAnswer = (survey: string, scale: string) =>
  z.object({
    responses: count(`Survey Responded events with survey "${survey}" and a score ${scale} in the window`),
    score: z
      .number()
      .nullable()
      .describe(
        survey === 'nps' ? 'NPS as in the KPIs; null without responses' : 'CSAT as in the KPIs; null without responses',
      ),
    distribution: z
      .array(
        z.object({
          score: z.number().int(),
          responses: count('Responses with this whole score (a fractional one counts at the score below it)'),
        }),
      )
      .describe(`One entry per whole score ${scale}, empty ones included`),
  });

export const surveysResponse = z.object({
  nps: surveyAnswer('nps', 'from 0 to 10'),
  csat: surveyAnswer('csat', 'from 1 to 5'),
});
export type SurveysResponse = z.output<typeof surveysResponse>;

export const openTicketsResponse = z.object({
  slaHours: z.number().describe('The service level the tickets were held to'),
  total: count('Tickets open now: opened, with a ticket_id, and no Ticket Resolved at or after the opening'),
  breached: count('Of those, how many breached the service level'),
  tickets: z
    .array(
      z.object({
        ticketId: z.string(),
        profileId: z.string().describe('The customer (survivor profile id)'),
        channel: z.string(),
        type: z
          .string()
          .describe(
            'properties.type of Ticket Opened: question, complaint, request, or what the source sent; empty when none',
          ),
        openedAt: z.string().describe('ISO instant of the opening'),
        ageHours: z.number().describe('Hours since the opening'),
        firstReplyAt: z
          .string()
          .nullable()
          .describe('ISO instant of the first Ticket Replied at or after the opening; null when none yet'),
        breached: z.boolean().describe('No reply within slaHours of the opening'),
      }),
    )
    .describe('The oldest open tickets first, at most `limit`'),
});
export type OpenTicketsResponse = z.output<typeof openTicketsResponse>;

export const rfmGridResponse = z.object({
  evaluatedAt: z
    .string()
    .nullable()
    .describe('When the evaluation that scored the customers began; null before the first'),
  customers: count('Profiles with at least one order, which have RFM scores'),
  cells: z
    .array(
      z.object({
        recency: z.number().int().min(1).max(5).describe('Recency quintile: 5 bought most recently'),
        frequency: z.number().int().min(1).max(5).describe('Frequency quintile: 5 bought most often'),
        customers: count('Customers with these two scores'),
      }),
    )
    .describe('Cells with customers, by recency then frequency'),
});
export type RfmGridResponse = z.output<typeof rfmGridResponse>;

export const retentionResponse = z.object({
  cohorts: z
    .array(
      z.object({
        cohort: z.string().describe('First day (YYYY-MM-DD, in tz) of the period the cohort started in'),
        size: count('Profiles whose first qualifying event ever is in that period'),
        retained: z
          .array(z.number().int())
          .describe(
            'retained[k]: profiles of the cohort with a qualifying event in period cohort + k; retained[0] = size',
          ),
      }),
    )
    .describe('Every period starting in the window, oldest first, empty ones included'),
});
export type RetentionResponse = z.output<typeof retentionResponse>;

export const repeatPurchaseResponse = z.object({
  customers: count('Profiles with at least one purchase in the window'),
  repeatCustomers: count('Profiles with at least two'),
  orders: count('Purchases in the window'),
  repeatRate: nullableNumber('repeatCustomers / customers'),
  ordersPerCustomer: nullableNumber('orders / customers'),
  distribution: z
    .object({
      '1': z.number().int(),
      '2': z.number().int(),
      '3': z.number().int(),
      '4': z.number().int(),
      '5+': z.number().int(),
    })
    .describe('Customers by their number of purchases in the window'),
  medianDaysToSecondPurchase: nullableNumber(
    'Median over repeat customers of the days from their first to their second purchase in the window',
  ),
  medianDaysBetweenPurchases: nullableNumber(
    'Median of the days between consecutive purchases of one customer in the window, over every such pair',
  ),
});
export type RepeatPurchaseResponse = z.output<typeof repeatPurchaseResponse>;

export const lifecycleResponse = z.object({
  periods: z
    .array(
      z.object({
        period: z.string().describe('First day (YYYY-MM-DD, in tz) of the period'),
        new: count('Active in the period, which holds their first message ever'),
        returning: count('Active in the period and in the one before'),
        resurrecting: count('Active in the period, not in the one before, and seen before that'),
        dormant: count('Active in the period before, not in this one'),
      }),
    )
    .describe('Every period starting in the window, oldest first'),
});
export type LifecycleResponse = z.output<typeof lifecycleResponse>;
