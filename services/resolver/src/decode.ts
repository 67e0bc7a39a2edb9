// The first step of the resolver's pipeline: decode each record and refuse what cannot be stored, with the reason.
import type { ConsumedRecord } from '@cdp/runtime';
import {
  decodeEvent,
  isStorableTime,
  sourceTrustHeader,
  storableTimes,
  untrustedSource,
  type EventRecord,
  type Identifier,
} from '@cdp/schemas';
import { identifiersOf, parseObject, type Blocked, type ParsedParts } from './identifiers';

/** A decoded event with its identifiers, found once here and used by every later step. */
export interface DecodedEvent {
  event: EventRecord;
  /** The identifiers that place the event and link profiles. */
  identifiers: Identifier[];
  /** Every identifier the event names: `identifiers` and an untrusted source's emails and phones (for suppressions). */
  named: Identifier[];
}

export interface Rejected {
  record: ConsumedRecord;
  reason: string;
}

const messageTypes = new Set(['track', 'identify', 'page', 'screen', 'group', 'alias']);

/** The event's JSON texts as objects, each parsed once; null for one that is not a JSON object. */
interface ParsedEvent extends ParsedParts {
  properties: Record<string, unknown> | null;
}

const parsedOf = (event: EventRecord): ParsedEvent => ({
  properties: parseObject(event.properties),
  traits: parseObject(event.traits),
  context: parseObject(event.context),
});

/** Why ClickHouse or the identity graph could not take this event, or null when it can be resolved and stored. */
function problemOf(event: EventRecord, identifiers: Identifier[], parsed: ParsedEvent): string | null {
  if (event.messageId.length === 0) return 'event has an empty messageId';
  if (!messageTypes.has(event.type))
    return `event type ${JSON.stringify(event.type)} is not one of ${[...messageTypes].join(', ')}`;
  const times = {
    timestamp: event.timestamp,
    receivedAt: event.receivedAt,
    sentAt: event.sentAt,
    originalTimestamp: event.originalTimestamp,
  };
  for (const [field, time] of Object.entries(times)) {
    // Ingest refuses such times; a record written by anything else may still carry one.
    if (time !== null && !isStorableTime(time)) return `${field} ${time} is outside ${storableTimes.text}`;
  }
  for (const field of ['properties', 'traits', 'context'] as const) {
    if (parsed[field] === null) return `${field} is not a JSON object`;
  }
  if (identifiers.length === 0) return 'event has no identifier (userId, anonymousId, email or phone)';
  return null;
}

export interface DecodeOptions {
  /** Identifiers that name nobody, left out of every event's identifiers. */
  blocked?: Blocked;
  /**
   * Whether an untrusted source's emails and phones link profiles too (CDP_TRUST_ALL_SOURCES). By default an event
   * that ingest marked as from an untrusted source (a browser's key) is placed by its userId and anonymousId only:
   * anyone can send any email from a browser, and must not join a stranger's profile by it.
   */
  trustAllSources?: boolean;
}

/** What an untrusted source may name but not link by: anyone can type an email, a phone or a channel's user id. */
const contactTypes = new Set<Identifier['type']>(['email', 'phone', 'zalo_id', 'messenger_psid']);

/** Whether the record's source may link profiles by email and phone. */
export const fromTrustedSource = (record: Pick<ConsumedRecord, 'headers'>): boolean =>
  record.headers[sourceTrustHeader] !== untrustedSource;

export function decodeAll(
  records: ConsumedRecord[],
  options: DecodeOptions = {},
): { events: DecodedEvent[]; rejected: Rejected[] } {
  const events: DecodedEvent[] = [];
  const rejected: Rejected[] = [];
  for (const record of records) {
    let event: EventRecord;
    try {
      event = decodeEvent(record.value);
    } catch (error) {
      rejected.push({ record, reason: `cannot decode Avro event: ${(error as Error).message}` });
      continue;
    }
    // Each JSON text is parsed once, here: its check and the identifiers read the same objects.
    const parsed = parsedOf(event);
    const found = identifiersOf(event, options.blocked, parsed);
    const identifiers =
      options.trustAllSources || fromTrustedSource(record)
        ? found
        : found.filter((identifier) => !contactTypes.has(identifier.type));
    const problem = problemOf(event, identifiers, parsed);
    if (problem === null) events.push({ event, identifiers, named: found });
    else rejected.push({ record, reason: problem });
  }
  return { events, rejected };
}
