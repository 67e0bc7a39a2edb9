// The built-in segments created on first start: lifecycle stages and RFM groups, ordinary rules with fixed ids.
import type { SegmentRule } from '@cdp/schemas';
import type { SegmentStore } from './definitions';

/** Default lifecycle windows in days (README: "Built-in segments"). */
export const lifecycleDays = { new: 30, active: 30, dormant: 90 } as const;

const isNew: SegmentRule = { stat: 'firstSeen', withinLastDays: lifecycleDays.new };
const seenRecently: SegmentRule = { stat: 'lastSeen', withinLastDays: lifecycleDays.active };
const seenWithinDormancy: SegmentRule = { stat: 'lastSeen', withinLastDays: lifecycleDays.dormant };
const boughtAgainRecently: SegmentRule = {
  and: [
    { stat: 'orders', gte: 2 },
    { event: 'Order Completed', withinDays: lifecycleDays.active },
  ],
};

const score = (
  stat: 'rfmRecency' | 'rfmFrequency' | 'rfmMonetary',
  range: { gte?: number; lte?: number },
): SegmentRule =>
  range.gte !== undefined && range.lte !== undefined
    ? {
        and: [
          { stat, gte: range.gte },
          { stat, lte: range.lte },
        ],
      }
    : range.gte !== undefined
      ? { stat, gte: range.gte }
      : { stat, lte: range.lte as number };

const champions: SegmentRule = {
  and: [score('rfmRecency', { gte: 4 }), score('rfmFrequency', { gte: 4 }), score('rfmMonetary', { gte: 4 })],
};

export const builtinSegments: Array<{ id: string; name: string; rule: SegmentRule }> = [
  // Lifecycle: every profile is in exactly one stage.
  { id: 'lifecycle-new', name: 'Lifecycle: new', rule: isNew },
  {
    id: 'lifecycle-active',
    name: 'Lifecycle: active',
    rule: { and: [{ not: isNew }, seenRecently, { not: boughtAgainRecently }] },
  },
  {
    id: 'lifecycle-returning',
    name: 'Lifecycle: returning',
    rule: { and: [{ not: isNew }, seenRecently, boughtAgainRecently] },
  },
  { id: 'lifecycle-dormant', name: 'Lifecycle: dormant', rule: { and: [{ not: seenRecently }, seenWithinDormancy] } },
  { id: 'lifecycle-churned', name: 'Lifecycle: churned', rule: { not: seenWithinDormancy } },
  // RFM: quintile scores among customers; a profile is in at most one group, some (R 3, F ≤ 3) in none.
  { id: 'rfm-champions', name: 'RFM: champions', rule: champions },
  {
    id: 'rfm-loyal',
    name: 'RFM: loyal',
    rule: { and: [score('rfmRecency', { gte: 3 }), score('rfmFrequency', { gte: 4 }), { not: champions }] },
  },
  {
    id: 'rfm-potential-loyalists',
    name: 'RFM: potential loyalists',
    rule: { and: [score('rfmRecency', { gte: 4 }), score('rfmFrequency', { gte: 2, lte: 3 })] },
  },
  {
    id: 'rfm-new-customers',
    name: 'RFM: new customers',
    rule: { and: [score('rfmRecency', { gte: 4 }), score('rfmFrequency', { lte: 1 })] },
  },
  {
    id: 'rfm-at-risk',
    name: 'RFM: at risk',
    rule: { and: [score('rfmRecency', { lte: 2 }), score('rfmFrequency', { gte: 3 })] },
  },
  {
    id: 'rfm-hibernating',
    name: 'RFM: hibernating',
    rule: { and: [score('rfmRecency', { gte: 2, lte: 2 }), score('rfmFrequency', { lte: 2 })] },
  },
  {
    id: 'rfm-lost',
    name: 'RFM: lost',
    rule: { and: [score('rfmRecency', { lte: 1 }), score('rfmFrequency', { lte: 2 })] },
  },
];

/** Creates the built-ins that do not exist yet; instances starting together write the same rows, which collapse. */
export async function ensureBuiltins(store: SegmentStore): Promise<number> {
  const existing = new Set((await store.list()).map((definition) => definition.id));
  const missing = builtinSegments.filter((segment) => !existing.has(segment.id));
  for (const segment of missing) await store.save({ ...segment, kind: 'builtin' });
  return missing.length;
}
