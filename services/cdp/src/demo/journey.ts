// The shared state of one customer's history while it is written: their drafts, orders, ids, and the clock of Vietnam.
import type { Faker } from '@faker-js/faker';
import { serverContext, serverContextWith, stableId, type Draft, type Sender } from './messages';
import { dayMs, hourMs, type Persona } from './persona';

export interface PlacedOrder {
  at: number;
  orderId: string;
  revenue: number;
  channel: string;
}

export interface Journey {
  faker: Faker;
  persona: Persona;
  now: number;
  /** Latest start of anything the customer does themselves (replies and resolutions may come later). */
  latest: number;
  /** The customer as back-office systems (helpdesk, email and SMS tools) name them. */
  office: Sender;
  drafts: Draft[];
  orders: PlacedOrder[];
  add(at: number, message: Draft['message']): void;
  /** A short upper-case id for orders, tickets, calls and chats, unique to this demo. */
  nextId(prefix: string): string;
}

export function createJourney(
  faker: Faker,
  persona: Persona,
  now: number,
  scope: { seed: number; months: number },
): Journey {
  const drafts: Draft[] = [];
  let sequence = 0;
  return {
    faker,
    persona,
    now,
    latest: now - 2 * hourMs,
    office: officeSender(persona),
    drafts,
    orders: [],
    add(at, message) {
      drafts.push({ at, message });
    },
    nextId(prefix) {
      sequence += 1;
      return `${prefix}-${stableId(prefix, scope.seed, scope.months, persona.index, sequence).slice(0, 10).toUpperCase()}`;
    },
  };
}

/** Members by their user id; everyone else by the id the system has for them, plus their phone or email. */
function officeSender(persona: Persona): Sender {
  if (persona.userId) return { userId: persona.userId, context: serverContext };
  const anonymousId = persona.devices.pos ?? persona.devices.contact ?? '';
  return {
    anonymousId,
    context: serverContextWith(persona.phone ? { phone: persona.phone } : { email: persona.email }),
  };
}

/** How a till or a chat agent types a phone number: `+84 90 123 4567`. */
export function spacedPhone(phone: string): string {
  return `${phone.slice(0, 3)} ${phone.slice(3, 5)} ${phone.slice(5, 8)} ${phone.slice(8)}`;
}

const vietnamOffsetMs = 7 * hourMs;

/** When people shop and write in: hours of the day in Vietnam, busiest at lunch and in the evening. */
const localHours = [7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23].map((hour) => ({
  value: hour,
  weight: [3, 4, 5, 6, 7, 8, 6, 5, 5, 5, 5, 6, 8, 10, 10, 7, 3][hour - 7] as number,
}));

/** A time on the Vietnamese calendar day of `around`, at a waking hour, never after `latest`. */
export function localTime(faker: Faker, around: number, latest: number): number {
  const day = Math.floor((Math.min(around, latest) + vietnamOffsetMs) / dayMs) * dayMs - vietnamOffsetMs;
  const at =
    day + faker.helpers.weightedArrayElement(localHours) * hourMs + faker.number.int({ min: 0, max: 3599 }) * 1000;
  return at > latest ? at - dayMs : at;
}

/** 09:00 in Vietnam on the day of `around` (campaigns go out in the morning). */
export function morningOf(around: number): number {
  return Math.floor((around + vietnamOffsetMs) / dayMs) * dayMs - vietnamOffsetMs + 9 * hourMs;
}

/** The customer's session start times: the first at first seen, the last at last seen, the rest in between. */
export function sessionTimes(journey: Journey): number[] {
  const { faker, persona, latest } = journey;
  const times: number[] = [];
  for (let session = 0; session < persona.sessions; session += 1) {
    const around =
      session === 0
        ? persona.firstSeen
        : session === persona.sessions - 1
          ? persona.lastSeen
          : faker.number.float({ min: persona.firstSeen, max: Math.max(persona.firstSeen, persona.lastSeen) });
    times.push(localTime(faker, around, latest));
  }
  return times.sort((a, b) => a - b);
}

/** Seconds to minutes later, for the steps of one visit. */
export const later = (faker: Faker, at: number, minSeconds: number, maxSeconds: number) =>
  at + faker.number.int({ min: minSeconds, max: maxSeconds }) * 1000;

/** A uniform time between two others. */
export const timeBetween = (faker: Faker, from: number, to: number) =>
  from + faker.number.float({ min: 0, max: 1 }) * Math.max(0, to - from);
