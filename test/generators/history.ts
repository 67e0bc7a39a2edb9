// A seeded, months-long multi-channel customer history with its truth, for the analytics suites.
import { rng } from './customers';

export type Message = Record<string, unknown> & { messageId: string; timestamp: string; type: string };

export interface HistoryCustomer {
  /** The identifier that reaches the customer's profile: `user_id:…`, or `anonymous_id:…` for one who never logs in. */
  ref: string;
}

export interface GeneratedHistory {
  /** Messages in the order they are sent, retries included (same messageId, same content). */
  messages: Message[];
  /** For each message, the index in `customers` of the customer it belongs to. */
  customerOf: number[];
  customers: HistoryCustomer[];
  distinctMessages: number;
  /** Customers made for one boundary case each. */
  special: { boundary: number; lateMerge: number; earlyBuyer: number };
}

const hour = 3_600_000;
const day = 24 * hour;
const historyStart = Date.parse('2025-01-01T00:00:00.000Z');
const historyEnd = Date.parse('2025-06-30T00:00:00.000Z');

interface Draft {
  at: number;
  message: Record<string, unknown>;
}

/**
 * Customers browse anonymously, log in (identify merges the device into the user), buy on the web, in the app and
 * in store (receipts joined by phone), open tickets that get replies and resolutions, answer NPS and CSAT surveys,
 * and open emails. A fifth of their sessions start within ten minutes of midnight in UTC+7 or in UTC, and about 3%
 * of messages are delivered twice, some of them long after the merge.
 */
export function generateHistory(options: { customers: number; seed: number; prefix: string }): GeneratedHistory {
  const random = rng(options.seed);
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)] as T;
  const between = (low: number, high: number) => low + Math.floor(random() * (high - low));
  const drafts: Array<Draft & { customer: number }> = [];
  const customers: HistoryCustomer[] = [];
  let sequence = 0;

  function customer(index: number): void {
    const id = `${options.prefix}-${index}`;
    const userId = random() < 0.85 ? `${id}-user` : null;
    const devices = Array.from({ length: userId ? between(1, 3) : 1 }, (_, n) => `${id}-device-${n}`);
    const phone = userId && random() < 0.4 ? `+8490${String(1_000_000 + index).slice(-7)}` : null;
    const ref = { ref: `anonymous_id:${devices[0]}` };
    customers.push(ref);
    const add = (at: number, message: Record<string, unknown>) => drafts.push({ at, message, customer: index });
    let time = historyStart + Math.floor(random() * 140 * day);
    let loggedIn = false;
    let tickets = 0;
    const sessions = 1 + Math.floor(-Math.log(1 - random()) * 5);

    for (let session = 0; session < sessions && time < historyEnd; session += 1) {
      const roll = random();
      // Session starts around midnight in UTC+7 (17:00 UTC) or in UTC, where a day, week or month is easily misplaced.
      if (roll < 0.12) time = Math.floor(time / day) * day + 17 * hour + between(-10, 10) * 60_000;
      else if (roll < 0.2) time = Math.floor(time / day) * day + day + between(-10, 10) * 60_000;
      // Before login only the first device is used: the identify at login is what links it to the user.
      const device = loggedIn ? pick(devices) : (devices[0] as string);
      const who =
        loggedIn && userId ? { userId, ...(random() < 0.5 ? { anonymousId: device } : {}) } : { anonymousId: device };
      add(time, {
        type: 'page',
        ...who,
        name: pick(['Home', 'Search', 'Product']),
        properties: { channel: pick(['web', 'app']) },
      });
      if (!loggedIn && userId && random() < 0.6) {
        if (random() < 0.3)
          add(time + 60_000, {
            type: 'track',
            anonymousId: device,
            event: 'Order Completed',
            properties: { revenue: between(500, 9_000) / 100, channel: 'web' },
          });
        add(time + 2 * 60_000, {
          type: 'identify',
          userId,
          anonymousId: device,
          traits: phone ? { phone } : { plan: 'free' },
        });
        loggedIn = true;
        ref.ref = `user_id:${userId}`;
      }
      const steps = between(1, 5);
      for (let step = 1; step <= steps; step += 1) {
        const at = time + step * between(1, 20) * 60_000;
        const kind = random();
        if (!loggedIn || !userId) {
          add(at, { type: 'track', anonymousId: device, event: 'Product Viewed', properties: { channel: 'web' } });
        } else if (kind < 0.3) {
          const amount = between(100, 25_000) / 100;
          const key = random() < 0.3 ? 'total' : 'revenue';
          add(at, {
            type: 'track',
            userId,
            event: 'Order Completed',
            properties: {
              order_id: `${id}-o${step}-${session}`,
              [key]: amount,
              currency: 'USD',
              channel: pick(['web', 'app']),
            },
          });
        } else if (kind < 0.4 && phone) {
          add(at, {
            type: 'track',
            anonymousId: `${id}-pos-${session}`,
            event: 'Order Completed',
            properties: { total: between(100, 9_000) / 100, channel: 'store' },
            context: { traits: { phone } },
          });
        } else if (kind < 0.52) {
          ticket(index, at, userId, `${id}-t${tickets++}`);
        } else if (kind < 0.62) {
          const nps = random() < 0.5;
          add(at, {
            type: 'track',
            userId,
            event: 'Survey Responded',
            properties: {
              survey: nps ? 'nps' : 'csat',
              score: nps ? between(0, 11) : between(1, 6),
              channel: pick(['email', 'sms']),
            },
          });
        } else if (kind < 0.78) {
          const [event, channel] = pick([
            ['Email Opened', 'email'],
            ['Email Link Clicked', 'email'],
            ['Chat Started', 'chat'],
            ['Call Completed', 'phone'],
            ['Post Liked', 'social'],
            ['SMS Clicked', 'sms'],
          ] as const);
          add(at, { type: 'track', userId, event, properties: { channel } });
        } else {
          add(at, {
            type: 'track',
            userId,
            event: pick(['Product Viewed', 'Product Added', 'Checkout Started']),
            properties: { channel: pick(['web', 'app']) },
          });
        }
      }
      time += Math.floor(-Math.log(1 - random()) * 14 * day) + hour;
    }
  }

  /** A ticket, usually answered within minutes to two days and resolved within hours to ten days. */
  function ticket(index: number, at: number, userId: string, ticketId: string): void {
    const channel = pick(['email', 'chat', 'phone']);
    const properties: Record<string, unknown> = { type: pick(['question', 'complaint', 'request']), channel };
    if (random() > 0.04) properties.ticket_id = ticketId;
    drafts.push({ at, customer: index, message: { type: 'track', userId, event: 'Ticket Opened', properties } });
    if (random() < 0.8) {
      const replyAt = at + between(3, 48 * 60) * 60_000;
      const reply = { ticket_id: ticketId, ...(random() < 0.5 ? { channel } : {}) };
      drafts.push({
        at: replyAt,
        customer: index,
        message: { type: 'track', userId, event: 'Ticket Replied', properties: reply },
      });
      if (random() < 0.3)
        drafts.push({
          at: replyAt + between(1, 600) * 60_000,
          customer: index,
          message: { type: 'track', userId, event: 'Ticket Replied', properties: reply },
        });
    }
    if (random() < 0.7)
      drafts.push({
        at: at + between(30, 240 * 60) * 60_000,
        customer: index,
        message: { type: 'track', userId, event: 'Ticket Resolved', properties: { ticket_id: ticketId } },
      });
  }

  for (let index = 0; index < options.customers; index += 1) customer(index);
  const special = specialCustomers(options.prefix, customers, drafts);

  drafts.sort((a, b) => a.at - b.at);
  const messages: Message[] = [];
  const customerOf: number[] = [];
  const retries: Array<{ message: Message; customer: number }> = [];
  for (const draft of drafts) {
    const message = {
      ...draft.message,
      messageId: `${options.prefix}-m${sequence++}`,
      timestamp: new Date(draft.at).toISOString(),
    } as Message;
    messages.push(message);
    customerOf.push(draft.customer);
    if (random() < 0.03) retries.push({ message, customer: draft.customer });
  }
  // Retries arrive a little later, or at the very end: after the identify that merged their profile.
  for (const retry of retries) {
    const position =
      random() < 0.5 ? messages.length : Math.min(messages.length, messages.indexOf(retry.message) + between(1, 200));
    messages.splice(position, 0, retry.message);
    customerOf.splice(position, 0, retry.customer);
  }
  return { messages, customerOf, customers, distinctMessages: sequence, special };
}

/**
 * Three customers for boundary cases: orders exactly at midnight of 2025-03-01 and 2025-04-01 in UTC+7 and in UTC;
 * an anonymous purchase in January merged into its user only in March; a first purchase before March and more in it.
 */
function specialCustomers(prefix: string, customers: HistoryCustomer[], drafts: Array<Draft & { customer: number }>) {
  const add = (customer: number, at: string, message: Record<string, unknown>) =>
    drafts.push({ at: Date.parse(at), customer, message });
  const order = (amount: number, channel: string) => ({
    type: 'track',
    event: 'Order Completed',
    properties: { revenue: amount, channel },
  });

  const boundary = customers.push({ ref: `user_id:${prefix}-boundary` }) - 1;
  const boundaryUser = { userId: `${prefix}-boundary` };
  add(boundary, '2025-02-28T17:00:00.000Z', { ...order(1, 'web'), ...boundaryUser });
  add(boundary, '2025-03-01T00:00:00.000Z', { ...order(10, 'web'), ...boundaryUser });
  add(boundary, '2025-03-31T17:00:00.000Z', { ...order(100, 'web'), ...boundaryUser });
  add(boundary, '2025-04-01T00:00:00.000Z', { ...order(1000, 'web'), ...boundaryUser });

  const lateMerge = customers.push({ ref: `user_id:${prefix}-late` }) - 1;
  const device = `${prefix}-late-device`;
  add(lateMerge, '2025-01-08T10:00:00.000Z', { ...order(20, 'web'), anonymousId: device });
  add(lateMerge, '2025-02-10T09:00:00.000Z', { ...order(30, 'app'), userId: `${prefix}-late` });
  add(lateMerge, '2025-03-05T09:00:00.000Z', { ...order(40, 'app'), userId: `${prefix}-late` });
  add(lateMerge, '2025-03-15T09:00:00.000Z', {
    type: 'identify',
    userId: `${prefix}-late`,
    anonymousId: device,
    traits: {},
  });

  const earlyBuyer = customers.push({ ref: `user_id:${prefix}-early` }) - 1;
  add(earlyBuyer, '2025-01-20T12:00:00.000Z', { ...order(50, 'web'), userId: `${prefix}-early` });
  add(earlyBuyer, '2025-03-03T12:00:00.000Z', { ...order(60, 'web'), userId: `${prefix}-early` });
  add(earlyBuyer, '2025-03-20T12:00:00.000Z', { ...order(70, 'web'), userId: `${prefix}-early` });
  return { boundary, lateMerge, earlyBuyer };
}
