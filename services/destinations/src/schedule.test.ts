// Which timers an event starts or may cancel, their ids, and when an anniversary is due.
import { describe, expect, it } from 'vitest';
import { destinationBodySchema, type EventRecord } from '@cdp/schemas';
import type { Destination } from './definitions';
import { anniversaryTimer, comingAnniversary, eventTimers, ruleKeyOf, timerDeliveryId } from './schedule';

const created = Date.parse('2026-03-01T00:00:00Z');

function destinationWith(triggers: unknown[], id = 'dst_1'): Destination {
  const body = destinationBodySchema.parse({ name: 'n', url: 'https://a.example/h', secret: 's'.repeat(16), triggers });
  return {
    ...body,
    id,
    template: null,
    traits: null,
    createdAt: new Date(created).toISOString(),
    updatedAt: new Date(created).toISOString(),
  };
}

function track(event: string, properties: Record<string, unknown>, extra: Partial<EventRecord> = {}): EventRecord {
  return {
    messageId: `m-${event}-${JSON.stringify(properties)}`,
    type: 'track',
    userId: 'lan',
    anonymousId: null,
    event,
    name: null,
    groupId: null,
    previousId: null,
    timestamp: created + 60_000,
    originalTimestamp: null,
    sentAt: null,
    receivedAt: created + 60_000,
    channel: 'web',
    source: 'test',
    properties: JSON.stringify(properties),
    traits: '{}',
    context: '{}',
    ...extra,
  };
}

const feedback = {
  kind: 'followUp',
  event: 'Order Completed',
  after: { value: 3, unit: 'days' },
  unless: { event: 'Survey Responded' },
};
const sla = {
  kind: 'followUp',
  event: 'Ticket Opened',
  where: [{ property: 'type', equals: 'complaint' }],
  after: { value: 4, unit: 'hours' },
  unless: { event: 'Ticket Replied' },
  matchOn: 'ticket_id',
};

describe('follow-up timers', () => {
  it('start at the event, due after the delay, with the same id and delivery id every time the record is read', () => {
    const destination = destinationWith([feedback]);
    const order = track('Order Completed', { order_id: 'o-1' });
    const [timer] = eventTimers([destination], order);
    expect(timer).toMatchObject({
      kind: 'follow_up',
      destinationId: 'dst_1',
      rule: ruleKeyOf(destination.triggers[0]!),
      identifiers: ['user_id:lan'],
      matchValue: '',
      startedAt: order.receivedAt,
      dueAt: order.receivedAt + 3 * 86_400_000,
      status: 'pending',
      trigger: {
        kind: 'followUp',
        event: 'Order Completed',
        unless: 'Survey Responded',
        properties: { order_id: 'o-1' },
      },
    });
    const [again] = eventTimers([destination], order);
    expect(again?.timerId).toBe(timer?.timerId);
    expect(timerDeliveryId(again!)).toBe(timerDeliveryId(timer!));
    expect(timerDeliveryId(timer!)).toMatch(/^dlv_[0-9a-f]{24}$/);
    // Another order is another timer.
    expect(eventTimers([destination], track('Order Completed', { order_id: 'o-2' }))[0]?.timerId).not.toBe(
      timer?.timerId,
    );
  });

  it('leave the awaited event for the timers it may cancel, with every identifier it carries', () => {
    const [awaited, ...rest] = eventTimers(
      [destinationWith([feedback])],
      track('Survey Responded', { survey: 'csat' }, { anonymousId: 'anon-7' }),
    );
    expect(rest).toEqual([]);
    expect(awaited).toMatchObject({
      kind: 'awaited',
      status: 'seen',
      identifiers: ['user_id:lan', 'anonymous_id:anon-7'],
      dueAt: created + 60_000,
      trigger: null,
    });
  });

  it('match an SLA by its property, and start nothing for events its filters or its time leave out', () => {
    const destination = destinationWith([sla]);
    const [opened] = eventTimers([destination], track('Ticket Opened', { ticket_id: 't-9', type: 'complaint' }));
    expect(opened).toMatchObject({ kind: 'follow_up', matchValue: '"t-9"', dueAt: created + 60_000 + 4 * 3_600_000 });
    const [replied] = eventTimers([destination], track('Ticket Replied', { ticket_id: 't-9' }));
    expect(replied).toMatchObject({ kind: 'awaited', matchValue: '"t-9"', rule: opened?.rule });

    expect(eventTimers([destination], track('Ticket Opened', { ticket_id: 't-1', type: 'question' }))).toEqual([]);
    expect(eventTimers([destination], track('Ticket Opened', { type: 'complaint' }))).toEqual([]);
    expect(eventTimers([destination], track('Ticket Replied', {}))).toEqual([]);
    expect(
      eventTimers(
        [destination],
        track('Ticket Opened', { ticket_id: 't-2', type: 'complaint' }, { receivedAt: created - 1 }),
      ),
    ).toEqual([]);
    expect(eventTimers([destination], track('Ticket Opened', { ticket_id: 't-3' }, { type: 'page' }))).toEqual([]);
    expect(
      eventTimers([destination], track('Ticket Opened', { ticket_id: 't-4', type: 'complaint' }, { userId: null })),
    ).toEqual([]);
  });
});

describe('anniversaries', () => {
  const now = Date.parse('2026-06-10T15:00:00Z');

  it('are due the given days before, this year or next, and not when further away', () => {
    expect(comingAnniversary('1990-06-15', now, 7)).toEqual({
      anniversary: '2026-06-15',
      dueAt: Date.parse('2026-06-08T00:00:00Z'),
    });
    expect(comingAnniversary('1990-06-10T08:00:00Z', now, 0)).toEqual({
      anniversary: '2026-06-10',
      dueAt: Date.parse('2026-06-10T00:00:00Z'),
    });
    expect(comingAnniversary('1990-06-18', now, 7)).toBeNull();
    expect(comingAnniversary('1990-06-09', now, 7)).toBeNull();
    expect(comingAnniversary('1990-01-02', Date.parse('2026-12-28T00:00:00Z'), 7)).toEqual({
      anniversary: '2027-01-02',
      dueAt: Date.parse('2026-12-26T00:00:00Z'),
    });
  });

  it('keep 29 February on the 28th in other years, and ignore what is no date', () => {
    expect(comingAnniversary('2000-02-29', Date.parse('2026-02-27T00:00:00Z'), 1)).toEqual({
      anniversary: '2026-02-28',
      dueAt: Date.parse('2026-02-27T00:00:00Z'),
    });
    expect(comingAnniversary('2000-02-29', Date.parse('2028-02-28T00:00:00Z'), 1)?.anniversary).toBe('2028-02-29');
    for (const value of ['1990-02-30', '1990-13-01', 'soon', 19900610, null, '1990-06-10x'])
      expect(comingAnniversary(value, now, 7)).toBeNull();
  });

  it('give one timer per profile, rule and year', () => {
    const destination = destinationWith([{ kind: 'anniversary', trait: 'birthday', daysBefore: 7 }]);
    const rule = destination.triggers[0] as Parameters<typeof anniversaryTimer>[1];
    const profile = { profileId: 'prf_1', value: '1990-06-15' };
    const timer = anniversaryTimer(destination, rule, profile, now);
    expect(timer).toMatchObject({
      kind: 'anniversary',
      profileId: 'prf_1',
      dueAt: Date.parse('2026-06-08T00:00:00Z'),
      trigger: {
        kind: 'anniversary',
        trait: 'birthday',
        value: '1990-06-15',
        anniversary: '2026-06-15',
        daysBefore: 7,
      },
    });
    expect(anniversaryTimer(destination, rule, profile, now + 86_400_000)?.timerId).toBe(timer?.timerId);
    const nextYear = anniversaryTimer(destination, rule, profile, Date.parse('2027-06-09T00:00:00Z'));
    expect(nextYear?.timerId).not.toBe(timer?.timerId);
    expect(anniversaryTimer(destination, rule, { profileId: 'prf_2', value: '1990-06-15' }, now)?.timerId).not.toBe(
      timer?.timerId,
    );
  });
});
