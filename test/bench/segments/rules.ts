// The ten custom segments of the benchmark: a mix of trait, stat and behaviour rules under and / or / not.
import type { SegmentRule } from '@cdp/schemas';

export interface CustomSegment {
  name: string;
  rule: SegmentRule;
}

/** The one exported as CSV: about half of the profiles are on a paid plan. */
export const exportedSegmentName = 'Paid plans';
/** Exported first, a third of its size: the server's memory must not grow with the audience. */
export const smallerExportName = 'EU adults 25–40';

export const customSegments: CustomSegment[] = [
  { name: exportedSegmentName, rule: { trait: 'plan', in: ['pro', 'team'] } },
  {
    name: smallerExportName,
    rule: {
      and: [
        { trait: 'country', in: ['DE', 'GB', 'FR'] },
        { trait: 'age', gte: 25 },
        { trait: 'age', lte: 40 },
      ],
    },
  },
  {
    name: 'High value',
    rule: {
      or: [
        { stat: 'rfmMonetary', equals: 5 },
        {
          and: [
            { stat: 'revenue', gte: 500 },
            { stat: 'orders', gte: 3 },
          ],
        },
      ],
    },
  },
  {
    name: 'Recent shoe or bag buyers',
    rule: { event: 'Order Completed', withinDays: 30, where: [{ property: 'category', in: ['shoes', 'bags'] }] },
  },
  {
    name: 'Cart abandoners',
    rule: {
      and: [
        { event: 'Product Added', withinDays: 14 },
        { notPerformed: 'Order Completed', withinDays: 14 },
      ],
    },
  },
  {
    name: 'Detractors or open tickets',
    rule: {
      or: [
        { stat: 'latestNps', lte: 6 },
        { stat: 'openTickets', gte: 1 },
      ],
    },
  },
  {
    name: 'Lapsed pros',
    rule: { and: [{ trait: 'plan', equals: 'pro' }, { not: { stat: 'lastSeen', withinLastDays: 60 } }] },
  },
  {
    name: 'Window shoppers',
    rule: {
      and: [
        { event: 'Product Viewed', atLeast: 3, withinDays: 90 },
        { stat: 'orders', equals: 0 },
      ],
    },
  },
  {
    name: 'Store and app outside the US',
    rule: {
      and: [
        { stat: 'channels', contains: 'store' },
        { stat: 'channels', contains: 'app' },
        { not: { trait: 'country', equals: 'US' } },
      ],
    },
  },
  {
    name: 'Young free readers of email',
    rule: {
      and: [
        { trait: 'age', lt: 30 },
        { trait: 'plan', equals: 'free' },
        { event: 'Email Opened', atLeast: 2, withinDays: 60 },
      ],
    },
  },
];
