// Who one demo customer is: name and contact details, how they reach the shop, and when they were first and last seen.
import type { Faker } from '@faker-js/faker';
import { asciiOf, cities, familyNames, mobilePrefixes } from './catalog';
import { stableId } from './messages';

export const hourMs = 3_600_000;
export const dayMs = 24 * hourMs;

/**
 * How the shop knows the customer: a member with an account (web and/or app, maybe also in store by phone), a
 * store-only loyalty card holder (phone), a newsletter contact (email) or a Zalo / Facebook buyer (phone).
 */
export type Reach = 'member' | 'store' | 'newsletter' | 'social';

/** Lifecycle as the built-in segments will see it at `now`. */
export type Lifecycle = 'new' | 'active' | 'dormant' | 'churned';

export interface Persona {
  index: number;
  reach: Reach;
  lifecycle: Lifecycle;
  userId: string | null;
  name: { full: string; family: string; given: string };
  gender: 'female' | 'male';
  city: string;
  /** YYYY-MM-DD, for some. */
  birthday: string | null;
  email: string | null;
  /** E.164, +84… */
  phone: string | null;
  /** anonymousIds of the customer's devices and of the systems that know them without an account. */
  devices: { web: string | null; app: string | null; pos: string | null; contact: string | null };
  /** Which device a member first came on. */
  firstDevice: 'web' | 'app';
  firstSeen: number;
  lastSeen: number;
  /** Sessions (visits, store trips, chats) between first and last seen. */
  sessions: number;
  /** Chance that a session ends in an order; 0 for those who never buy. */
  purchaseRate: number;
  /** Chance of opening a campaign email or clicking a campaign SMS. */
  campaignAffinity: number;
}

export interface PersonaScope {
  seed: number;
  /** The start of the demo's history, epoch ms. */
  start: number;
  now: number;
}

/** Phones are unique within a seed and rarely shared across seeds: the index is spread over every prefix and number. */
const phoneSpace = mobilePrefixes.length * 10_000_000;

function phoneOf(seed: number, index: number): string {
  const offset = Number.parseInt(stableId('phone', seed).slice(0, 8), 16) % phoneSpace;
  // A multiplier coprime to the space makes this a bijection; a large one keeps neighbours' numbers far apart.
  const slot = (index * 104_729_531 + offset) % phoneSpace;
  return `+84${mobilePrefixes[Math.floor(slot / 10_000_000)]}${String(slot % 10_000_000).padStart(7, '0')}`;
}

const emailDomains = ['example.com', 'example.net', 'example.org'];

function lifecycleWindow(
  faker: Faker,
  scope: PersonaScope,
): { lifecycle: Lifecycle; firstSeen: number; lastSeen: number } {
  const { start, now } = scope;
  const historyDays = (now - start) / dayMs;
  const latest = now - 2 * hourMs;
  const daysAgo = (low: number, high: number) =>
    now - faker.number.float({ min: low, max: Math.max(low, high) }) * dayMs;
  let lifecycle = faker.helpers.weightedArrayElement<Lifecycle>([
    { value: 'new', weight: 12 },
    { value: 'active', weight: 44 },
    { value: 'dormant', weight: 20 },
    { value: 'churned', weight: 24 },
  ]);
  // A short history has no room for the older stages.
  if (lifecycle === 'churned' && historyDays < 95) lifecycle = 'dormant';
  if (lifecycle === 'dormant' && historyDays < 35) lifecycle = 'active';
  if (lifecycle === 'active' && historyDays < 35) lifecycle = 'new';
  const between = (low: number, high: number) => low + faker.number.float({ min: 0, max: 1 }) * Math.max(0, high - low);
  if (lifecycle === 'new') {
    const firstSeen = Math.min(daysAgo(0.2, Math.min(29, historyDays)), latest);
    return { lifecycle, firstSeen, lastSeen: between(firstSeen, latest) };
  }
  if (lifecycle === 'active') {
    const lastSeen = Math.min(daysAgo(0.1, 28), latest);
    return { lifecycle, firstSeen: between(start, now - 31 * dayMs), lastSeen };
  }
  if (lifecycle === 'dormant') {
    const lastSeen = daysAgo(31, Math.min(88, historyDays - 1));
    return { lifecycle, firstSeen: between(start, lastSeen), lastSeen };
  }
  const lastSeen = daysAgo(92, historyDays - 1);
  return { lifecycle, firstSeen: between(start, lastSeen), lastSeen };
}

/** A normal draw (Box–Muller) from faker's stream. */
export function normal(faker: Faker, mean: number, deviation: number): number {
  const u = faker.number.float({ min: Number.EPSILON, max: 1 });
  const v = faker.number.float({ min: 0, max: 1 });
  return mean + deviation * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

export function drawPersona(faker: Faker, scope: PersonaScope, index: number): Persona {
  const { seed } = scope;
  const gender = faker.helpers.arrayElement(['female', 'male'] as const);
  const family = faker.helpers.weightedArrayElement(familyNames);
  const given = faker.person.firstName(gender);
  const reach = faker.helpers.weightedArrayElement<Reach>([
    { value: 'member', weight: 70 },
    { value: 'store', weight: 13 },
    { value: 'newsletter', weight: 10 },
    { value: 'social', weight: 7 },
  ]);
  const member = reach === 'member';
  const hasPhone = reach === 'store' || reach === 'social' || (member && faker.datatype.boolean(0.85));
  const hasEmail = reach === 'newsletter' || (member && (!hasPhone || faker.datatype.boolean(0.85)));
  const emailName = `${asciiOf(given).toLowerCase().replace(/\s+/g, '')}.${asciiOf(family).toLowerCase()}`;
  const email = hasEmail
    ? `${emailName}${faker.number.int({ min: 10, max: 99 })}${index}@${faker.helpers.arrayElement(emailDomains)}`
    : null;
  const multiDevice = member && faker.datatype.boolean(0.13);
  const firstDevice = faker.helpers.weightedArrayElement<'web' | 'app'>([
    { value: 'web', weight: 7 },
    { value: 'app', weight: 3 },
  ]);
  const storeShopper = member && hasPhone && faker.datatype.boolean(0.14);
  const birthday = faker.datatype.boolean(0.6)
    ? `${faker.number.int({ min: 1962, max: 2006 })}-${String(faker.number.int({ min: 1, max: 12 })).padStart(2, '0')}-${String(faker.number.int({ min: 1, max: 28 })).padStart(2, '0')}`
    : null;
  const window = lifecycleWindow(faker, scope);
  const monthsSeen = (window.lastSeen - window.firstSeen) / (30 * dayMs);
  const perMonth = Math.exp(normal(faker, Math.log(reach === 'member' ? 1.6 : 1), 0.7));
  const buys = reach === 'store' || reach === 'social' || (member && faker.datatype.boolean(0.78));
  return {
    index,
    reach,
    lifecycle: window.lifecycle,
    userId: member ? `kh-${seed}-${String(index + 1).padStart(5, '0')}` : null,
    name: { full: `${family} ${given}`, family, given },
    gender,
    city: faker.helpers.weightedArrayElement(cities),
    birthday,
    email,
    phone: hasPhone ? phoneOf(seed, index) : null,
    devices: {
      web: member && (firstDevice === 'web' || multiDevice) ? stableId('web', seed, index) : null,
      app: member && (firstDevice === 'app' || multiDevice) ? stableId('app', seed, index).toUpperCase() : null,
      pos: reach === 'store' || storeShopper ? `pos-${stableId('pos', seed, index)}` : null,
      contact:
        reach === 'newsletter'
          ? `esp-${stableId('esp', seed, index)}`
          : reach === 'social'
            ? `zalo-${stableId('zalo', seed, index)}`
            : null,
    },
    firstDevice,
    firstSeen: window.firstSeen,
    lastSeen: window.lastSeen,
    sessions: Math.min(40, 1 + Math.round(perMonth * monthsSeen)),
    purchaseRate: buys ? faker.number.float({ min: 0.12, max: reach === 'member' ? 0.55 : 0.9 }) : 0,
    campaignAffinity: faker.number.float({ min: 0.05, max: 0.6 }),
  };
}
