// Segment membership computed with plain loops over the stored rows and no ClickHouse: the tests' second opinion.
import type { PropertyFilter, SegmentRule, TraitCondition } from '@cdp/schemas';

/** One stored message as the tests insert it into `events`. */
export interface StoredMessage {
  messageId: string;
  storedId: string;
  type: string;
  event: string;
  timestamp: number;
  receivedAt: number;
  channel: string;
  properties: Record<string, unknown>;
  traits: Record<string, unknown>;
}

export interface ReferenceProfile {
  profileId: string;
  stats: Record<string, number | null | string[]>;
  traits: Record<string, unknown>;
  events: StoredMessage[];
}

const dayMs = 86_400_000;

/** Survivor profiles from messages and loser → survivor merges: each messageId once, stats and latest traits. */
export function referenceProfiles(messages: StoredMessage[], merges: Map<string, string>): ReferenceProfile[] {
  const profiles = unscoredProfiles(messages, merges);
  scoreQuintiles(profiles, 'rfmRecency', 'lastOrderAt');
  scoreQuintiles(profiles, 'rfmFrequency', 'orders');
  scoreQuintiles(profiles, 'rfmMonetary', 'revenue');
  return profiles;
}

/** SQL's ntile(5) over customers (≥ 1 order) by the stat ascending, then profile id: the first N % 5 buckets get one more. */
function scoreQuintiles(profiles: ReferenceProfile[], score: string, by: string): void {
  const customers = profiles
    .filter((profile) => (profile.stats.orders as number) > 0)
    .sort((a, b) => (a.stats[by] as number) - (b.stats[by] as number) || (a.profileId < b.profileId ? -1 : 1));
  const size = Math.floor(customers.length / 5);
  const larger = customers.length % 5;
  let position = 0;
  for (let bucket = 1; bucket <= 5; bucket += 1) {
    for (let taken = 0; taken < size + (bucket <= larger ? 1 : 0); taken += 1)
      (customers[position++] as ReferenceProfile).stats[score] = bucket;
  }
  for (const profile of profiles) profile.stats[score] ??= null;
}

function unscoredProfiles(messages: StoredMessage[], merges: Map<string, string>): ReferenceProfile[] {
  const byId = new Map<string, StoredMessage>();
  for (const message of messages) if (!byId.has(message.messageId)) byId.set(message.messageId, message);
  const bySurvivor = new Map<string, StoredMessage[]>();
  // Every stored copy counts for membership of its survivor: the profile exists even if its copy is a retry.
  for (const message of messages) {
    const survivor = merges.get(message.storedId) ?? message.storedId;
    if (!bySurvivor.has(survivor)) bySurvivor.set(survivor, []);
  }
  for (const message of byId.values()) bySurvivor.get(merges.get(message.storedId) ?? message.storedId)?.push(message);
  return [...bySurvivor.entries()].map(([profileId, own]) => {
    const sorted = [...own].sort((a, b) => a.timestamp - b.timestamp || a.receivedAt - b.receivedAt);
    const orders = sorted.filter((message) => message.type === 'track' && message.event === 'Order Completed');
    const latest = (survey: string) => {
      const answers = sorted.filter(
        (message) => message.event === 'Survey Responded' && message.properties.survey === survey,
      );
      return answers.length === 0 ? null : Number(answers[answers.length - 1]?.properties.score);
    };
    const opened = new Set(
      sorted
        .filter((message) => message.event === 'Ticket Opened')
        .map((message) => String(message.properties.ticket_id)),
    );
    const resolved = new Set(
      sorted
        .filter((message) => message.event === 'Ticket Resolved')
        .map((message) => String(message.properties.ticket_id)),
    );
    const traits: Record<string, unknown> = {};
    for (const message of sorted) if (message.type === 'identify') Object.assign(traits, message.traits);
    return {
      profileId,
      traits,
      events: sorted,
      stats: {
        orders: orders.length,
        revenue: orders.reduce(
          (sum, order) => sum + Number(order.properties.revenue ?? order.properties.total ?? 0),
          0,
        ),
        events: sorted.length,
        openTickets: [...opened].filter((ticket) => !resolved.has(ticket)).length,
        latestNps: latest('nps'),
        latestCsat: latest('csat'),
        lastOrderAt: orders.length === 0 ? null : Math.max(...orders.map((order) => order.timestamp)),
        firstSeen: sorted[0]?.timestamp ?? null,
        lastSeen: sorted[sorted.length - 1]?.timestamp ?? null,
        channels: [...new Set(sorted.map((message) => message.channel))],
      },
    };
  });
}

function valuePasses(value: unknown, condition: TraitCondition | PropertyFilter, now: number): boolean {
  const present = value !== undefined && value !== null;
  if (condition.exists !== undefined) return condition.exists === present;
  if (condition.equals !== undefined) return value === condition.equals;
  if (condition.in !== undefined) return condition.in.some((candidate) => candidate === value);
  if (condition.contains !== undefined) return typeof value === 'string' && value.includes(condition.contains);
  if (typeof value === 'number') {
    if (condition.gt !== undefined) return value > condition.gt;
    if (condition.gte !== undefined) return value >= condition.gte;
    if (condition.lt !== undefined) return value < condition.lt;
    if (condition.lte !== undefined) return value <= condition.lte;
  }
  const date = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(date)) return false;
  if (condition.before !== undefined) return date < Date.parse(condition.before);
  if (condition.after !== undefined) return date > Date.parse(condition.after);
  if (condition.withinLastDays !== undefined) return date >= now - condition.withinLastDays * dayMs;
  return false;
}

function countEvents(
  profile: ReferenceProfile,
  event: string,
  where: PropertyFilter[] = [],
  withinDays: number | undefined,
  now: number,
): number {
  return profile.events.filter(
    (message) =>
      message.event === event &&
      message.timestamp <= now &&
      (withinDays === undefined || message.timestamp >= now - withinDays * dayMs) &&
      where.every((filter) => valuePasses(message.properties[filter.property], filter, now)),
  ).length;
}

export function referenceMatches(rule: SegmentRule, profile: ReferenceProfile, now: number): boolean {
  if ('and' in rule) return rule.and.every((child) => referenceMatches(child, profile, now));
  if ('or' in rule) return rule.or.some((child) => referenceMatches(child, profile, now));
  if ('not' in rule) return !referenceMatches(rule.not, profile, now);
  if ('trait' in rule) return valuePasses(profile.traits[rule.trait], rule, now);
  if ('notPerformed' in rule) return countEvents(profile, rule.notPerformed, rule.where, rule.withinDays, now) === 0;
  if ('event' in rule) {
    const count = countEvents(profile, rule.event, rule.where, rule.withinDays, now);
    const atLeast = rule.atLeast ?? (rule.atMost === undefined ? 1 : 0);
    return count >= atLeast && (rule.atMost === undefined || count <= rule.atMost);
  }
  const value = profile.stats[rule.stat];
  if (rule.contains !== undefined) return Array.isArray(value) && value.includes(rule.contains);
  if (rule.exists !== undefined) return rule.exists === (value !== null);
  if (typeof value !== 'number') return false;
  if (rule.equals !== undefined) return value === rule.equals;
  if (rule.gt !== undefined) return value > rule.gt;
  if (rule.gte !== undefined) return value >= rule.gte;
  if (rule.lt !== undefined) return value < rule.lt;
  if (rule.lte !== undefined) return value <= rule.lte;
  if (rule.before !== undefined) return value < Date.parse(rule.before);
  if (rule.after !== undefined) return value > Date.parse(rule.after);
  if (rule.withinLastDays !== undefined) return value >= now - rule.withinLastDays * dayMs;
  return false;
}

/** The members' survivor ids, sorted. */
export function referenceMembers(rule: SegmentRule, profiles: ReferenceProfile[], now: number): string[] {
  return profiles
    .filter((profile) => referenceMatches(rule, profile, now))
    .map((profile) => profile.profileId)
    .sort();
}
