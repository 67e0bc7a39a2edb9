// Segment rule validation: every problem is reported once, at the exact path of what is wrong.
import { describe, expect, it } from 'vitest';
import { segmentBodySchema, validateRule } from './segment-validate';

const pathsOf = (rule: unknown) => {
  const result = validateRule(rule, ['rule']);
  return result.success ? [] : result.problems.map((problem) => problem.path);
};

const nest = (depth: number): unknown => (depth === 1 ? { stat: 'orders', gte: 1 } : { not: nest(depth - 1) });

describe('segment rule validation', () => {
  it('accepts every kind of node', () => {
    const rule = {
      and: [
        { trait: 'plan', in: ['pro', 1, true] },
        {
          or: [
            { stat: 'lastOrderAt', withinLastDays: 30 },
            { stat: 'channels', contains: 'store' },
          ],
        },
        {
          not: {
            event: 'Order Completed',
            atLeast: 2,
            atMost: 5,
            withinDays: 90,
            where: [{ property: 'revenue', gt: 10 }],
          },
        },
        { notPerformed: 'Email Opened', withinDays: 30 },
        { trait: 'signedUpAt', after: '2025-01-01T00:00:00+07:00' },
      ],
    };
    expect(validateRule(rule)).toEqual({ success: true, rule });
  });

  it.each([
    [
      'a wrongly typed operator value',
      {
        and: [
          { trait: 'a', equals: 'x' },
          { stat: 'orders', gte: 'x' },
        ],
      },
      ['rule.and.1.gte'],
    ],
    ['an unknown key', { trait: 'a', equals: 1, colour: 'red' }, ['rule.colour']],
    ['two operators in one condition', { trait: 'a', equals: 1, gt: 2 }, ['rule.gt']],
    ['no operator', { or: [{ trait: 'a' }] }, ['rule.or.0']],
    ['an operator the stat does not take', { stat: 'orders', before: '2025-01-01' }, ['rule.before']],
    ['an unknown stat', { stat: 'shoeSize', gt: 1 }, ['rule.stat']],
    ['a node of two kinds', { and: [{ stat: 'orders', gt: 1 }], or: [] }, ['rule.or']],
    ['an empty and', { not: { and: [] } }, ['rule.not.and']],
    ['a non-object node', { or: [{ stat: 'orders', gt: 1 }, 'orders > 1'] }, ['rule.or.1']],
    ['a bound the wrong way round', { event: 'Order Completed', atLeast: 3, atMost: 1 }, ['rule.atMost']],
    [
      'a property filter with two operators',
      { event: 'Order Completed', where: [{ property: 'revenue', gt: 1, lt: 5 }] },
      ['rule.where.0.lt'],
    ],
    ['a date that is not ISO 8601', { trait: 'signedUpAt', before: 'last tuesday' }, ['rule.before']],
    ['a negative day count', { notPerformed: 'Order Completed', withinDays: -1 }, ['rule.withinDays']],
    ['a missing day count', { notPerformed: 'Order Completed' }, ['rule.withinDays']],
    ['a number past 2^53, which ClickHouse cannot be given exactly', { stat: 'revenue', gte: 2 ** 56 }, ['rule.gte']],
    ['a trait value past -2^53', { trait: 'score', equals: -(2 ** 60) }, ['rule.equals']],
    ['a trait key that is too long', { trait: 'k'.repeat(201), exists: true }, ['rule.trait']],
    ['an empty event name', { event: '' }, ['rule.event']],
    ['too deep a tree', nest(11), ['rule.not.not.not.not.not.not.not.not.not.not']],
    ['too many conditions', { or: Array.from({ length: 101 }, () => ({ stat: 'orders', gt: 1 })) }, ['rule']],
    ['null', null, ['rule']],
  ])('reports %s at its path', (_name, rule, paths) => {
    expect(pathsOf(rule)).toEqual(paths);
  });

  it('accepts exactly the limits: depth 10, 100 conditions, numbers within ±(2^53 − 1)', () => {
    expect(validateRule({ stat: 'revenue', gte: Number.MAX_SAFE_INTEGER }).success).toBe(true);
    expect(validateRule(nest(10)).success).toBe(true);
    expect(validateRule({ or: Array.from({ length: 100 }, () => ({ stat: 'orders', gt: 1 })) }).success).toBe(true);
  });

  it('reports the same paths through the request body schema', () => {
    const result = segmentBodySchema.safeParse({
      name: 'x',
      rule: {
        and: [
          { trait: 'a', equals: 'x' },
          { stat: 'orders', gte: 'x' },
        ],
      },
    });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((issue) => issue.path.join('.'))).toEqual(['rule.and.1.gte']);
  });
});
