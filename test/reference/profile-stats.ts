// The profile a customer's messages should produce, computed with plain loops and no ClickHouse: the tests' second opinion.
import type { ProfileStats } from '@cdp/profiles';

export interface ExpectedProfile {
  stats: ProfileStats;
  traits: Record<string, unknown>;
}

type Message = Record<string, unknown>;

const objectOf = (value: unknown): Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};

/** Messages as sent (duplicates included, each with messageId and ISO timestamp), all of one customer. */
export function expectedProfile(messages: Message[]): ExpectedProfile {
  const byId = new Map<string, Message>();
  for (const message of messages)
    if (!byId.has(message.messageId as string)) byId.set(message.messageId as string, message);
  const distinct = [...byId.values()].sort(
    (a, b) => Date.parse(a.timestamp as string) - Date.parse(b.timestamp as string),
  );

  let orders = 0;
  let revenueCents = 0;
  let lastOrderAt: number | null = null;
  const channels = new Set<string>();
  const latest: Record<string, { at: number; score: number } | undefined> = {};
  const opened = new Set<string>();
  const resolved = new Set<string>();
  const traits: Record<string, unknown> = {};

  for (const message of distinct) {
    const at = Date.parse(message.timestamp as string);
    const properties = objectOf(message.properties);
    const event = message.type === 'track' ? (message.event as string) : '';
    channels.add(typeof properties.channel === 'string' ? properties.channel : 'unknown');
    if (event === 'Order Completed') {
      orders += 1;
      revenueCents += Math.round(Number(properties.revenue ?? properties.total ?? 0) * 100);
      lastOrderAt = Math.max(lastOrderAt ?? at, at);
    }
    if (event === 'Survey Responded') {
      const survey = properties.survey as string;
      const previous = latest[survey];
      if (!previous || at >= previous.at) latest[survey] = { at, score: Number(properties.score) };
    }
    if (event === 'Ticket Opened') opened.add(properties.ticket_id as string);
    if (event === 'Ticket Resolved') resolved.add(properties.ticket_id as string);
    Object.assign(traits, objectOf(objectOf(message.context).traits));
    if (message.type === 'identify') Object.assign(traits, objectOf(message.traits));
  }

  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  const first = distinct[0];
  const last = distinct[distinct.length - 1];
  return {
    stats: {
      firstSeen: first ? (first.timestamp as string) : null,
      lastSeen: last ? (last.timestamp as string) : null,
      events: distinct.length,
      orders,
      revenue: revenueCents / 100,
      lastOrderAt: iso(lastOrderAt),
      channels: [...channels].sort(),
      latestNps: latest.nps?.score ?? null,
      latestCsat: latest.csat?.score ?? null,
      openTickets: [...opened].filter((ticket) => !resolved.has(ticket)).length,
    },
    traits,
  };
}
