// The builder's tree gives back the rule it was made from, and the API's problem paths land on the node they name.
import { describe, expect, it } from 'vitest';
import {
  fromRule,
  newGroup,
  newStat,
  placeProblems,
  toRule,
  updateNode,
  type EventNode,
  type Group,
} from './rule-tree';

const rules = [
  { stat: 'firstSeen', withinLastDays: 30 },
  { not: { stat: 'lastSeen', withinLastDays: 90 } },
  {
    and: [
      { not: { stat: 'firstSeen', withinLastDays: 30 } },
      { stat: 'lastSeen', withinLastDays: 30 },
      {
        not: {
          and: [
            { stat: 'orders', gte: 2 },
            { event: 'Order Completed', withinDays: 30 },
          ],
        },
      },
    ],
  },
  {
    or: [
      { stat: 'latestNps', lte: 6 },
      { stat: 'openTickets', gte: 1 },
    ],
  },
  {
    and: [
      { stat: 'orders', gte: 2 },
      { trait: 'plan', in: ['pro', 'team'] },
    ],
  },
  {
    event: 'Order Completed',
    atLeast: 3,
    atMost: 9,
    withinDays: 90,
    where: [
      { property: 'channel', equals: 'store' },
      { property: 'total', gt: 100000 },
    ],
  },
  {
    and: [
      { stat: 'lastOrderAt', exists: true },
      { notPerformed: 'Order Completed', withinDays: 60 },
    ],
  },
  { not: { stat: 'channels', contains: 'store' } },
  {
    and: [
      { trait: 'vip', equals: true },
      { trait: 'age', equals: 30 },
      { trait: 'city', contains: 'Hà' },
      { trait: 'birthday', after: '2000-01-31' },
    ],
  },
];

describe('the builder’s rule tree', () => {
  it('gives back every kind of rule it was made from', () => {
    for (const rule of rules) expect(toRule(fromRule(rule)).rule).toEqual(rule);
    // A double negation keeps its meaning: the outer NOT goes on a group of one.
    expect(toRule(fromRule({ not: { not: { stat: 'orders', equals: 0 } } })).rule).toEqual({
      not: { and: [{ not: { stat: 'orders', equals: 0 } }] },
    });
  });

  it('keeps what was typed: numbers as numbers, anything else as the text the API will name', () => {
    const stat = newStat('orders');
    const root = newGroup('and', [{ ...stat, test: { ...stat.test, value: ' 2 ' } }]);
    expect(toRule(root).rule).toEqual({ stat: 'orders', gte: 2 });
    expect(
      toRule(
        updateNode(
          root,
          stat.id,
          (node) => ({ ...node, test: { operator: 'gte', value: 'two', valueType: 'number' } }) as typeof node,
        ),
      ).rule,
    ).toEqual({ stat: 'orders', gte: 'two' });
    expect(toRule(newGroup('or')).rule).toEqual({ or: [] });
  });

  it('places each problem on the node its path names, through NOT wrappers, with the rest of the path', () => {
    const root: Group = fromRule({
      and: [
        { stat: 'orders', gte: 2 },
        { not: { event: 'Order Completed', atLeast: -1, where: [{ property: 'channel', equals: 'web' }] } },
        { or: [] },
      ],
    });
    const { paths } = toRule(root);
    const [orders, event, group] = root.children as [Group, EventNode, Group];
    const placed = placeProblems(
      [
        { path: 'rule.and.0.gte', message: 'a' },
        { path: 'rule.and.1.not.atLeast', message: 'b' },
        { path: 'rule.and.1.not.where.0.equals', message: 'c' },
        { path: 'rule.and.2.or', message: 'd' },
        { path: 'name', message: 'e' },
      ],
      paths,
    );
    expect(placed).toEqual([
      { nodeId: orders.id, field: 'gte', message: 'a' },
      { nodeId: event.id, field: 'atLeast', message: 'b' },
      { nodeId: event.id, field: 'where.0.equals', message: 'c' },
      { nodeId: group.id, field: 'or', message: 'd' },
      { nodeId: null, field: 'name', message: 'e' },
    ]);
  });

  it('removes a node and leaves the rest', () => {
    const root = fromRule({
      and: [
        { stat: 'orders', gte: 2 },
        { stat: 'revenue', gt: 1000000 },
      ],
    });
    const first = root.children[0] as Group;
    expect(toRule(updateNode(root, first.id, () => null)).rule).toEqual({ stat: 'revenue', gt: 1000000 });
  });
});
