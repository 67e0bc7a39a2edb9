// Timers from triggers: which follow-ups an event starts, which it may cancel, when an anniversary is due (pure).
import { createHash } from 'node:crypto';
import { delayMs, type AnniversaryTrigger, type EventRecord, type FollowUpTrigger, type Trigger } from '@cdp/schemas';
import type { Destination } from './definitions';
import { deliveryIdOf, type TriggerRecord } from './deliveries';
import { eventIdentifiers, matchesEvent, parseObject, propertyAt, since } from './triggers';

export type TimerKind = 'follow_up' | 'anniversary' | 'awaited';
export type TimerStatus = 'pending' | 'fired' | 'cancelled' | 'seen';

/** A timer (`follow_up`, `anniversary`) or an awaited event a follow-up's `unless` names (`awaited`). */
export interface Timer {
  kind: TimerKind;
  timerId: string;
  destinationId: string;
  /** The trigger's key (`ruleKeyOf`): a timer of a rule that was changed or removed is dropped when due. */
  rule: string;
  /** The survivor when known (anniversaries); follow-ups resolve their identifiers when due. */
  profileId: string;
  /** The event's identifiers as `type:value`. */
  identifiers: string[];
  /** The `matchOn` property's value (JSON), '' without one. */
  matchValue: string;
  /** What the delivery's payload shows as `trigger`; null for an awaited event. */
  trigger: TriggerRecord | null;
  startedAt: number;
  dueAt: number;
  status: TimerStatus;
  reason: string;
}

const hash = (text: string, length: number) => createHash('sha256').update(text).digest('hex').slice(0, length);

/** A trigger's key: the same definition gives the same key, a changed one another. */
export const ruleKeyOf = (rule: Trigger) => hash(JSON.stringify(rule), 16);

/** The same timer always gives the same id, and so the same delivery id: a replayed record or a second firing adds none. */
export const timerIdOf = (destinationId: string, source: string) =>
  `tmr_${hash(`${destinationId}\u0000${source}`, 24)}`;
export const timerDeliveryId = (timer: Pick<Timer, 'destinationId' | 'timerId'>) =>
  deliveryIdOf(timer.destinationId, `timer:${timer.timerId}`);

const followUps = (destination: Destination) =>
  destination.triggers.filter((rule): rule is FollowUpTrigger => rule.kind === 'followUp');

/** The value a `matchOn` path holds, as JSON; undefined when the event lacks it (it then starts or cancels nothing). */
function matchValueOf(rule: FollowUpTrigger, properties: Record<string, unknown>): string | undefined {
  if (rule.matchOn === undefined) return '';
  const value = propertyAt(properties, rule.matchOn);
  return value === undefined || value === null ? undefined : JSON.stringify(value);
}

/**
 * The follow-up timers an event starts, and the awaited rows it leaves for follow-ups whose `unless` it matches.
 * Both are dated by `receivedAt` (a client's timestamp may lie); a destination counts only what came after it.
 */
export function eventTimers(destinations: Destination[], event: EventRecord): Timer[] {
  if (event.type !== 'track' || !event.event) return [];
  const name = event.event;
  const relevant = destinations.filter(
    (destination) =>
      since(destination, event.receivedAt) &&
      followUps(destination).some((rule) => rule.event === name || rule.unless?.event === name),
  );
  if (relevant.length === 0) return [];
  const properties = parseObject(event.properties);
  const identifiers = eventIdentifiers(event);
  const keys = identifiers.map((identifier) => `${identifier.type}:${identifier.value}`);
  if (keys.length === 0) return [];
  const timers: Timer[] = [];
  for (const destination of relevant) {
    for (const rule of followUps(destination)) {
      const matchValue = matchValueOf(rule, properties);
      if (matchValue === undefined) continue;
      const key = ruleKeyOf(rule);
      const base = {
        destinationId: destination.id,
        rule: key,
        profileId: '',
        identifiers: keys,
        matchValue,
        startedAt: event.receivedAt,
        reason: '',
      };
      if (matchesEvent(rule, name, properties)) {
        const dueAt = event.receivedAt + delayMs(rule.after);
        timers.push({
          ...base,
          kind: 'follow_up',
          timerId: timerIdOf(destination.id, `followUp:${key}:${event.messageId}`),
          trigger: {
            kind: 'followUp',
            event: name,
            messageId: event.messageId,
            timestamp: new Date(event.timestamp).toISOString(),
            properties,
            after: rule.after,
            ...(rule.unless ? { unless: rule.unless.event } : {}),
            dueAt: new Date(dueAt).toISOString(),
            identifiers,
          },
          dueAt,
          status: 'pending',
        });
      }
      if (rule.unless && matchesEvent(rule.unless, name, properties))
        timers.push({
          ...base,
          kind: 'awaited',
          timerId: timerIdOf(destination.id, `awaited:${key}:${event.messageId}`),
          trigger: null,
          dueAt: event.receivedAt,
          status: 'seen',
        });
    }
  }
  return timers;
}

const dayMs = 86_400_000;
const isLeap = (year: number) => (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;

/** The anniversary of month/day in `year` (29 February is kept on the 28th in other years), as UTC midnight. */
function anniversaryIn(year: number, month: number, day: number): number {
  return Date.UTC(year, month - 1, month === 2 && day === 29 && !isLeap(year) ? 28 : day);
}

/**
 * The next anniversary (today included, UTC days) of a date trait (`YYYY-MM-DD`, optionally followed by a time), when
 * it is at most `daysBefore` days away: the anniversary, and when its timer is due (that many days before it, at UTC
 * midnight). Null when the value is no date or the anniversary is further away.
 */
export function comingAnniversary(
  value: unknown,
  now: number,
  daysBefore: number,
): { anniversary: string; dueAt: number } | null {
  if (typeof value !== 'string') return null;
  const parsed = /^(\d{4})-(\d{2})-(\d{2})(?:$|[T ])/.exec(value);
  if (!parsed) return null;
  const [month, day] = [Number(parsed[2]), Number(parsed[3])];
  const probe = new Date(Date.UTC(2000, month - 1, day));
  if (probe.getUTCMonth() !== month - 1 || probe.getUTCDate() !== day) return null;
  const today = Math.floor(now / dayMs) * dayMs;
  const thisYear = new Date(today).getUTCFullYear();
  let anniversary = anniversaryIn(thisYear, month, day);
  if (anniversary < today) anniversary = anniversaryIn(thisYear + 1, month, day);
  const dueAt = anniversary - daysBefore * dayMs;
  if (dueAt > today) return null;
  return { anniversary: new Date(anniversary).toISOString().slice(0, 10), dueAt };
}

/** One timer per profile, rule and anniversary (the year is in the date). */
export const anniversaryTimerId = (destinationId: string, ruleKey: string, profileId: string, anniversary: string) =>
  timerIdOf(destinationId, `anniversary:${ruleKey}:${profileId}:${anniversary}`);

/** The anniversary timer of one profile's trait value, or null when none is coming within the rule's days. */
export function anniversaryTimer(
  destination: Destination,
  rule: AnniversaryTrigger,
  profile: { profileId: string; value: unknown },
  now: number,
): Timer | null {
  const coming = comingAnniversary(profile.value, now, rule.daysBefore);
  if (!coming) return null;
  const key = ruleKeyOf(rule);
  return {
    kind: 'anniversary',
    timerId: anniversaryTimerId(destination.id, key, profile.profileId, coming.anniversary),
    destinationId: destination.id,
    rule: key,
    profileId: profile.profileId,
    identifiers: [],
    matchValue: '',
    trigger: {
      kind: 'anniversary',
      trait: rule.trait,
      value: profile.value as string,
      anniversary: coming.anniversary,
      daysBefore: rule.daysBefore,
    },
    startedAt: now,
    dueAt: coming.dueAt,
    status: 'pending',
    reason: '',
  };
}
