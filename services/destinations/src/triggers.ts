// Which destinations a segment change or an event triggers: pure matching, no I/O.
import type { EventRecord, SegmentChange } from '@cdp/schemas';
import type { Destination } from './definitions';
import { deliveryIdOf, type Delivery, type EventIdentifier, type TriggerRecord } from './deliveries';

export type NewDelivery = Pick<Delivery, 'deliveryId' | 'destinationId' | 'profileId' | 'trigger'>;

/** A property at a dotted path (`address.city`), or undefined. */
export function propertyAt(properties: Record<string, unknown>, path: string): unknown {
  let value: unknown = properties;
  for (const key of path.split('.')) {
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/** An event of the rule's name whose properties equal every filter. */
export const matchesEvent = (
  rule: { event: string; where: Array<{ property: string; equals: unknown }> },
  name: string,
  properties: Record<string, unknown>,
) => rule.event === name && rule.where.every((filter) => propertyAt(properties, filter.property) === filter.equals);

/** The identifiers an event carries, to find its profile once the resolver has placed it. */
export function eventIdentifiers(event: EventRecord): EventIdentifier[] {
  const identifiers: EventIdentifier[] = [];
  if (event.userId) identifiers.push({ type: 'user_id', value: event.userId });
  if (event.anonymousId) identifiers.push({ type: 'anonymous_id', value: event.anonymousId });
  return identifiers;
}

/** A destination fires only for what happened after it was created: a consumer catching up does not replay history. */
export const since = (destination: Destination, at: number) => at >= Date.parse(destination.createdAt);

export function segmentDeliveries(destinations: Destination[], change: SegmentChange): NewDelivery[] {
  const trigger: TriggerRecord = {
    kind: 'segment',
    segmentId: change.segmentId,
    change: change.change,
    at: new Date(change.at).toISOString(),
    version: change.version,
  };
  return destinations
    .filter((destination) => since(destination, change.at))
    .filter((destination) =>
      destination.triggers.some(
        (rule) => rule.kind === 'segment' && rule.segmentId === change.segmentId && rule.on === change.change,
      ),
    )
    .map((destination) => ({
      deliveryId: deliveryIdOf(
        destination.id,
        `segment:${change.segmentId}:${change.profileId}:${change.change}:${change.version}`,
      ),
      destinationId: destination.id,
      profileId: change.profileId,
      trigger,
    }));
}

/** `receivedAt` dates the event for `since`: a client's own timestamp may lie in the past. */
export function eventDeliveries(destinations: Destination[], event: EventRecord): NewDelivery[] {
  if (event.type !== 'track' || !event.event) return [];
  const name = event.event;
  let properties: Record<string, unknown> | null = null;
  const matching = destinations.filter(
    (destination) =>
      since(destination, event.receivedAt) &&
      destination.triggers.some((rule) => {
        if (rule.kind !== 'event' || rule.event !== name) return false;
        properties ??= parseObject(event.properties);
        return matchesEvent(rule, name, properties);
      }),
  );
  if (matching.length === 0) return [];
  const identifiers = eventIdentifiers(event);
  const trigger: TriggerRecord = {
    kind: 'event',
    event: name,
    messageId: event.messageId,
    timestamp: new Date(event.timestamp).toISOString(),
    properties: properties ?? parseObject(event.properties),
    identifiers,
  };
  return matching.map((destination) => ({
    deliveryId: deliveryIdOf(destination.id, `event:${event.messageId}`),
    destinationId: destination.id,
    profileId: '',
    trigger,
  }));
}

export function parseObject(json: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(json);
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : {};
  } catch {
    return {};
  }
}
