// Which windows of a rule move with time alone: the boundaries a sweep looks for, without ClickHouse.
import { describe, expect, it } from 'vitest';
import type { SegmentRule } from '@cdp/schemas';
import { builtinSegments } from './builtins';
import { boundariesOf } from './sweep';

describe('the time boundaries of rules', () => {
  it('names every window measured back from now, once, and nothing that does not move with time', () => {
    const rules: SegmentRule[] = [
      { and: [{ stat: 'lastSeen', withinLastDays: 30 }, { not: { stat: 'firstSeen', withinLastDays: 30 } }] },
      {
        or: [
          { stat: 'lastSeen', withinLastDays: 30 },
          { trait: 'trialEndsAt', withinLastDays: 7 },
        ],
      },
      {
        event: 'Order Completed',
        atLeast: 2,
        withinDays: 90,
        where: [
          { property: 'deliveredAt', withinLastDays: 3 },
          { property: 'channel', equals: 'web' },
        ],
      },
      { notPerformed: 'Email Opened', withinDays: 14 },
      { event: 'Ticket Opened', where: [{ property: 'dueAt', withinLastDays: 1 }] },
      // Fixed instants and counts never flip with time alone.
      {
        and: [
          { stat: 'lastOrderAt', after: '2025-01-01' },
          { stat: 'orders', gte: 2 },
          { trait: 'plan', equals: 'gold' },
          { event: 'Page Viewed' },
        ],
      },
    ];
    expect(boundariesOf(rules)).toEqual([
      { stat: 'stat_last_seen', days: 30 },
      { stat: 'stat_first_seen', days: 30 },
      { trait: 'trialEndsAt', days: 7 },
      { event: 'Order Completed', days: 90 },
      { event: 'Order Completed', property: 'deliveredAt', days: 3, window: 90 },
      { event: 'Email Opened', days: 14 },
      { event: 'Ticket Opened', property: 'dueAt', days: 1, window: null },
    ]);
  });

  it('reads the lifecycle windows of the built-ins, and none from the RFM groups', () => {
    expect(boundariesOf(builtinSegments.map((segment) => segment.rule))).toEqual([
      { stat: 'stat_first_seen', days: 30 },
      { stat: 'stat_last_seen', days: 30 },
      { event: 'Order Completed', days: 30 },
      { stat: 'stat_last_seen', days: 90 },
    ]);
  });
});
