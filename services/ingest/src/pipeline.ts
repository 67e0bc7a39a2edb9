// One message from parsed JSON to the event the log carries: inspect → size → validate → enrich → time bounds.
import { isStorableTime, parseMessage, storableTimes, type EventRecord, type MessageType } from '@cdp/schemas';
import { enrich, type ClientIpPolicy, type RequestContext } from './enrich';
import { inspectJson, jsonFitsWithin } from './inspect';

export const maxEventBytes = 32 * 1024;

/** Times the skew-corrected timestamp may take; outside them a clock is broken, not an event historical or planned. */
export const earliestTimestamp = Date.UTC(2000, 0, 1);
export const maxFutureMs = 24 * 60 * 60 * 1000;

export interface EventIssue {
  index: number;
  path: string;
  message: string;
}

export interface MessageInput {
  item: unknown;
  index: number;
  forcedType?: MessageType;
  receivedAt: number;
  source: string;
  request: RequestContext;
  /** What is kept of the client's IP address (default: all of it). */
  clientIp?: ClientIpPolicy;
  batchSentAt?: string | null;
  batchContext?: Record<string, unknown> | null;
  /** Bytes of the whole decoded body: when it is within the event limit, no item of it can exceed the limit. */
  bodyBytes?: number;
}

export function toEvent(input: MessageInput): { event: EventRecord } | { issues: EventIssue[]; tooLarge?: true } {
  const { item, index } = input;
  const fail = (path: string, message: string) => ({ issues: [{ index, path, message }] });
  const problem = inspectJson(item);
  if (problem) return fail(problem.path, problem.message);
  // The limit is on the event as sent (Segment's rule): a body within it holds no item over it, and an item whose
  // size bound is within it is not over it either, so neither needs re-serializing. Others are measured by
  // re-serializing, which is within a few bytes of what was sent.
  const mayBeTooLarge =
    (input.bodyBytes === undefined || input.bodyBytes > maxEventBytes) && !jsonFitsWithin(item ?? null, maxEventBytes);
  if (mayBeTooLarge && Buffer.byteLength(JSON.stringify(item ?? null)) > maxEventBytes) {
    return { ...fail('', `an event may be at most ${maxEventBytes / 1024} KB`), tooLarge: true };
  }
  const parsed = parseMessage(item, input.forcedType);
  if (!parsed.ok) return { issues: parsed.issues.map((issue) => ({ index, ...issue })) };
  const event = enrich({
    message: parsed.message,
    receivedAt: input.receivedAt,
    source: input.source,
    request: input.request,
    ...(input.clientIp ? { clientIp: input.clientIp } : {}),
    batchSentAt: input.batchSentAt,
    batchContext: input.batchContext,
  });
  for (const [field, time] of [
    ['originalTimestamp', event.originalTimestamp],
    ['sentAt', event.sentAt],
  ] as const) {
    // Times as the client stated them are stored too, so they must fit ClickHouse's DateTime64.
    if (time !== null && !isStorableTime(time)) {
      return fail(
        field === 'originalTimestamp' ? 'timestamp' : field,
        `${describeTime(time)} is outside ${storableTimes.text}`,
      );
    }
  }
  if (event.timestamp < earliestTimestamp) {
    return fail(
      'timestamp',
      `timestamp ${describeTime(event.timestamp)} is before 2000-01-01 (after clock-skew correction)`,
    );
  }
  if (event.timestamp > input.receivedAt + maxFutureMs) {
    return fail(
      'timestamp',
      `timestamp ${describeTime(event.timestamp)} is more than a day in the future (after clock-skew correction)`,
    );
  }
  return { event };
}

/** Skew correction can move a time out of the Date range, where toISOString would throw. */
function describeTime(ms: number): string {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? `${ms} ms since 1970` : date.toISOString();
}
