// The segment rule language: a JSON tree of and / or / not over trait, stat and behaviour conditions, validated by zod.
import { z } from 'zod';

export const ruleLimits = {
  depth: 10,
  conditions: 100,
  stringLength: 200,
  inValues: 100,
  propertyFilters: 10,
  days: 3650,
  count: 1_000_000,
} as const;

const text = z.string().min(1).max(ruleLimits.stringLength);
/** A number a rule compares with: ClickHouse gets it as a query parameter, exact only within ±(2^53 − 1). */
const ruleNumber = z.number().min(-Number.MAX_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER);
const scalar = z.union([z.string().max(ruleLimits.stringLength), ruleNumber, z.boolean()]);
const instant = z.union([z.iso.date(), z.iso.datetime({ offset: true })]);
const days = z.number().int().min(1).max(ruleLimits.days);
const count = z.number().int().min(0).max(ruleLimits.count);

/** One operator of a value test: the leaf holds exactly one of these keys. */
const valueOperators = {
  equals: scalar.optional(),
  in: z.array(scalar).min(1).max(ruleLimits.inValues).optional(),
  contains: text.optional(),
  exists: z.boolean().optional(),
  gt: ruleNumber.optional(),
  gte: ruleNumber.optional(),
  lt: ruleNumber.optional(),
  lte: ruleNumber.optional(),
  before: instant.optional(),
  after: instant.optional(),
  withinLastDays: days.optional(),
};
export const valueOperatorNames = Object.keys(valueOperators) as Array<keyof typeof valueOperators>;
export type ValueOperator = (typeof valueOperatorNames)[number];

export const traitConditionSchema = z.strictObject({ trait: text, ...valueOperators });
export const propertyFilterSchema = z.strictObject({ property: text, ...valueOperators });

/** rfmRecency / rfmFrequency / rfmMonetary: quintile scores 1–5 among profiles with at least one order, else null. */
export const numericStats = [
  'orders',
  'revenue',
  'events',
  'openTickets',
  'latestNps',
  'latestCsat',
  'rfmRecency',
  'rfmFrequency',
  'rfmMonetary',
] as const;
export const dateStats = ['lastOrderAt', 'firstSeen', 'lastSeen'] as const;
export const statNames = [...numericStats, ...dateStats, 'channels'] as const;
export type StatName = (typeof statNames)[number];

/** Which operators each kind of stat takes. */
export const statOperators: Record<'numeric' | 'date' | 'channels', ValueOperator[]> = {
  numeric: ['equals', 'gt', 'gte', 'lt', 'lte', 'exists'],
  date: ['before', 'after', 'withinLastDays', 'exists'],
  channels: ['contains'],
};

export const statConditionSchema = z.strictObject({
  stat: z.enum(statNames),
  equals: ruleNumber.optional(),
  gt: ruleNumber.optional(),
  gte: ruleNumber.optional(),
  lt: ruleNumber.optional(),
  lte: ruleNumber.optional(),
  exists: z.boolean().optional(),
  before: instant.optional(),
  after: instant.optional(),
  withinLastDays: days.optional(),
  contains: text.optional(),
});

/** "Performed E (matching `where`) at least / at most N times within the last D days"; with neither bound: at least once. */
export const eventConditionSchema = z.strictObject({
  event: text,
  where: z.array(propertyFilterSchema).max(ruleLimits.propertyFilters).optional(),
  atLeast: count.optional(),
  atMost: count.optional(),
  withinDays: days.optional(),
});

/** "Has not performed E (matching `where`) in the last D days". */
export const notPerformedConditionSchema = z.strictObject({
  notPerformed: text,
  where: z.array(propertyFilterSchema).max(ruleLimits.propertyFilters).optional(),
  withinDays: days,
});

export type TraitCondition = z.infer<typeof traitConditionSchema>;
export type PropertyFilter = z.infer<typeof propertyFilterSchema>;
export type StatCondition = z.infer<typeof statConditionSchema>;
export type EventCondition = z.infer<typeof eventConditionSchema>;
export type NotPerformedCondition = z.infer<typeof notPerformedConditionSchema>;
export type SegmentRule =
  | { and: SegmentRule[] }
  | { or: SegmentRule[] }
  | { not: SegmentRule }
  | TraitCondition
  | StatCondition
  | EventCondition
  | NotPerformedCondition;

/** The whole tree as one recursive schema: its JSON Schema documents the language in OpenAPI. */
export const segmentRuleShape: z.ZodType<SegmentRule> = z.lazy(() =>
  z.union([
    z.strictObject({ and: z.array(segmentRuleShape).min(1) }),
    z.strictObject({ or: z.array(segmentRuleShape).min(1) }),
    z.strictObject({ not: segmentRuleShape }),
    traitConditionSchema,
    statConditionSchema,
    eventConditionSchema,
    notPerformedConditionSchema,
  ]),
);
