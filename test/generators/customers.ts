// A generated multi-channel customer base with its truth: which identifiers and events belong to whom.
import { normaliseEmail } from '@cdp/schemas';

/** A small seeded PRNG (mulberry32), so every run sends the same data. */
export function rng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface TruthProfile {
  /** `type:value` of every identifier, normalised, sorted. */
  identifiers: string[];
  events: number;
  orders: number;
  revenue: number;
}

export interface GeneratedCustomers {
  /** Messages in the order they are sent, duplicates included. */
  messages: Array<Record<string, unknown>>;
  /** For each message, the index in `truth` of the customer it belongs to. */
  customerOf: number[];
  /** Distinct messageIds sent. */
  distinctMessages: number;
  truth: TruthProfile[];
}

const mixCase = (text: string, random: () => number) =>
  `${random() < 0.3 ? '  ' : ''}${[...text].map((char) => (random() < 0.3 ? char.toUpperCase() : char)).join('')}${random() < 0.3 ? ' ' : ''}`;

/**
 * Customers who browse anonymously on one to three devices, log in, buy online and in store (receipts joined by
 * phone), open tickets and answer surveys; a few never log in. About `eventsPerCustomer` messages each, and about
 * 3% of messages are delivered twice.
 */
export function generateCustomers(options: {
  customers: number;
  seed: number;
  prefix: string;
  eventsPerCustomer?: number;
  /** Added to each customer's index in their phone number, so customer bases generated apart do not share phones. */
  phoneOffset?: number;
}): GeneratedCustomers {
  const random = rng(options.seed);
  const pick = <T>(items: T[]) => items[Math.floor(random() * items.length)] as T;
  const perCustomer = options.eventsPerCustomer ?? 25;
  const messages: Array<Record<string, unknown>> = [];
  const customerOf: number[] = [];
  const truth: TruthProfile[] = [];
  let messageCount = 0;
  const start = Date.parse('2025-01-01T00:00:00.000Z');

  for (let index = 0; index < options.customers; index += 1) {
    const id = `${options.prefix}-${index}`;
    const loggedIn = random() < 0.9;
    const devices = Array.from({ length: loggedIn ? 1 + Math.floor(random() * 3) : 1 }, (_, d) => `${id}-device-${d}`);
    const email = loggedIn && random() < 0.8 ? `${id}@example.com` : null;
    const phone =
      loggedIn && random() < 0.5 ? `+849${String(10_000_000 + (options.phoneOffset ?? 0) + index).slice(-8)}` : null;
    const userId = loggedIn ? `${id}-user` : null;
    const identifiers = new Set<string>(devices.map((device) => `anonymous_id:${device}`));
    if (userId) identifiers.add(`user_id:${userId}`);
    if (email) identifiers.add(`email:${normaliseEmail(email)}`);
    if (phone) identifiers.add(`phone:${phone}`);
    const profile: TruthProfile = { identifiers: [], events: 0, orders: 0, revenue: 0 };
    let time = start + Math.floor(random() * 30 * 86_400_000);

    const emit = (message: Record<string, unknown>) => {
      time += Math.floor(random() * 3_600_000);
      const full = { ...message, messageId: `${id}-m${messageCount++}`, timestamp: new Date(time).toISOString() };
      messages.push(full);
      customerOf.push(index);
      profile.events += 1;
      if (random() < 0.03) {
        messages.push(full);
        customerOf.push(index);
      }
    };

    const tickets: string[] = [];
    const count = Math.max(3, Math.round(perCustomer * (0.5 + random())));
    for (const device of devices)
      emit({ type: 'page', anonymousId: device, name: 'Home', properties: { channel: 'web' } });
    if (userId) {
      for (const device of devices) {
        const traits: Record<string, unknown> = {};
        if (email) traits.email = mixCase(email, random);
        traits.plan = pick(['free', 'pro', 'team']);
        if (phone && random() < 0.5) traits.phone = `${phone.slice(0, 3)} ${phone.slice(3, 6)} ${phone.slice(6)}`;
        else if (phone) traits.phone = phone;
        emit({ type: 'identify', userId, anonymousId: device, traits });
      }
    }
    while (profile.events < count) {
      const roll = random();
      if (!userId) {
        emit({ type: 'track', anonymousId: devices[0], event: 'Product Viewed', properties: { channel: 'web' } });
      } else if (roll < 0.35) {
        emit({
          type: 'page',
          anonymousId: pick(devices),
          name: pick(['Home', 'Search', 'Product']),
          properties: { channel: pick(['web', 'app']) },
        });
      } else if (roll < 0.55) {
        const amount = Math.round(random() * 20_000) / 100;
        const byTotal = random() < 0.3;
        emit({
          type: 'track',
          userId,
          event: 'Order Completed',
          properties: { [byTotal ? 'total' : 'revenue']: amount, channel: pick(['web', 'app']) },
        });
        profile.orders += 1;
        profile.revenue += amount;
      } else if (roll < 0.65 && phone) {
        const amount = Math.round(random() * 10_000) / 100;
        const register = `${id}-pos-${messageCount}`;
        emit({
          type: 'track',
          anonymousId: register,
          event: 'Order Completed',
          properties: { total: amount, channel: 'store' },
          context: { traits: { phone } },
        });
        identifiers.add(`anonymous_id:${register}`);
        profile.orders += 1;
        profile.revenue += amount;
      } else if (roll < 0.7) {
        const ticketId = `${id}-t${tickets.length}`;
        tickets.push(ticketId);
        emit({
          type: 'track',
          userId,
          event: 'Ticket Opened',
          properties: {
            ticket_id: ticketId,
            type: pick(['question', 'complaint']),
            channel: pick(['email', 'chat', 'phone']),
          },
        });
      } else if (roll < 0.75 && tickets.length > 0) {
        emit({ type: 'track', userId, event: 'Ticket Resolved', properties: { ticket_id: pick(tickets) } });
      } else if (roll < 0.8) {
        emit({
          type: 'track',
          userId,
          event: pick(['Email Opened', 'Chat Started']),
          properties: { channel: pick(['email', 'chat']) },
        });
      } else {
        emit({
          type: 'track',
          userId,
          event: 'Survey Responded',
          properties: { survey: pick(['nps', 'csat']), score: Math.floor(random() * 11) },
        });
      }
    }
    profile.identifiers = [...identifiers].sort();
    profile.revenue = Math.round(profile.revenue * 100) / 100;
    truth.push(profile);
  }
  return { messages, customerOf, distinctMessages: messageCount, truth };
}
