// The enriched event as it travels on the log, and its Avro codec (schema: schemas/avro/event.avsc).
import { avroCodec } from './avro';

export interface EventRecord {
  messageId: string;
  type: string;
  userId: string | null;
  anonymousId: string | null;
  event: string | null;
  name: string | null;
  groupId: string | null;
  previousId: string | null;
  timestamp: number;
  originalTimestamp: number | null;
  sentAt: number | null;
  receivedAt: number;
  channel: string;
  source: string;
  /** JSON-encoded objects: Avro has no free-form map of any value. */
  properties: string;
  traits: string;
  context: string;
}

const eventCodec = avroCodec<EventRecord>('event.avsc');

export const encodeEvent = eventCodec.encode;
export const decodeEvent = eventCodec.decode;

/** The times an event's DateTime64(3) columns can hold: 1900-01-01 up to, not including, 2300-01-01. */
export const storableTimes = {
  from: Date.UTC(1900, 0, 1),
  until: Date.UTC(2300, 0, 1),
  text: '1900-01-01 to 2299-12-31',
} as const;

export const isStorableTime = (epochMs: number) => epochMs >= storableTimes.from && epochMs < storableTimes.until;

export interface TopicNames {
  /** Accepted events, keyed by device. */
  events: string;
  /** Where events that could not be processed go, with the reason in a header. */
  deadLetter: string;
  /** Identity links, one partition so every resolver applies them in the same order. */
  links: string;
  /** Segment membership changes (entered / exited), keyed by profile. */
  segmentChanges: string;
  /** Evaluation requests, one partition: the consumer-group member that owns it is the one evaluator. */
  segmentsLeader: string;
  /** One record per survivor profile a resolver batch changed, produced after ClickHouse has the batch; keyed by profile. */
  profileChanges: string;
}

/** Topic names under an optional prefix, so several platforms can share one Kafka cluster. */
export function topicNames(prefix = ''): TopicNames {
  return {
    events: `${prefix}cdp.events`,
    deadLetter: `${prefix}cdp.events.dead-letter`,
    links: `${prefix}cdp.identity.links`,
    segmentChanges: `${prefix}cdp.segments.changes`,
    segmentsLeader: `${prefix}cdp.segments.leader`,
    profileChanges: `${prefix}cdp.profiles.changes`,
  };
}

/**
 * The log record header ingest sets on an event from a source without the `trusted` scope (a browser's key, which
 * anyone can read): the resolver links no profiles by that event's emails and phones. No header: a trusted source.
 */
export const sourceTrustHeader = 'source-trust';
export const untrustedSource = 'untrusted';
