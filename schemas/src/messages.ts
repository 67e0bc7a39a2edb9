// Zod schemas of the Segment-compatible messages the ingest API accepts, one per message type.
import { z } from 'zod';

/** Segment SDKs send ids as strings, some servers as numbers; both become strings. */
const id = z
  .union([z.string(), z.number().finite()])
  .transform((value) => String(value).trim())
  .refine((value) => value.length > 0, 'must not be empty')
  .refine((value) => value.length <= 512, 'must be at most 512 characters');

/** ISO-8601 only: Date.parse alone would also take "1" or "Tuesday 3pm" and guess. */
/**
 * An id a message may leave out: RudderStack's browser SDK sends `userId: ""` for a visitor not yet identified, which
 * means no userId, as null does. A required id (alias's, groupId) must still hold something.
 */
const optionalId = z
  .union([z.string(), z.number().finite()])
  // One branch and a test of the text, not a union of a blank string and an id: a union tries its branches in turn, and
  // the failed one's issues cost more than the whole check of an id (ingest validates every event of a batch).
  .transform((value) => String(value).trim() || null)
  .refine((value) => value === null || value.length <= 512, 'must be at most 512 characters')
  .optional()
  .nullable();

const isoPattern = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/i;

const isoDate = z
  .string()
  .max(64)
  .refine((value) => isoPattern.test(value) && !Number.isNaN(Date.parse(value)), 'must be an ISO-8601 date-time');

// Any JSON object, its fields kept as they are: a loose object with no shape copies them, where a record would
// check each key and value (two to three times the work for an event's context and properties).
const jsonObject = z.looseObject({});

const common = {
  messageId: z.string().trim().min(1).max(256).optional(),
  userId: optionalId,
  anonymousId: optionalId,
  timestamp: isoDate.optional().nullable(),
  originalTimestamp: isoDate.optional().nullable(),
  sentAt: isoDate.optional().nullable(),
  context: jsonObject.optional().nullable(),
  integrations: jsonObject.optional().nullable(),
  writeKey: z.string().optional(),
};

const needsIdentity = (message: { userId?: string | null; anonymousId?: string | null }) =>
  Boolean(message.userId) || Boolean(message.anonymousId);
const identityIssue = { message: 'userId or anonymousId is required', path: ['userId'] };

export const trackMessage = z
  .object({
    ...common,
    type: z.literal('track'),
    event: z.string().trim().min(1, 'event is required').max(512),
    properties: jsonObject.optional().nullable(),
  })
  .refine(needsIdentity, identityIssue);

export const identifyMessage = z
  .object({ ...common, type: z.literal('identify'), traits: jsonObject.optional().nullable() })
  .refine(needsIdentity, identityIssue);

export const pageMessage = z
  .object({
    ...common,
    type: z.literal('page'),
    name: z.string().max(512).optional().nullable(),
    category: z.string().max(512).optional().nullable(),
    properties: jsonObject.optional().nullable(),
  })
  .refine(needsIdentity, identityIssue);

export const screenMessage = z
  .object({
    ...common,
    type: z.literal('screen'),
    name: z.string().max(512).optional().nullable(),
    properties: jsonObject.optional().nullable(),
  })
  .refine(needsIdentity, identityIssue);

export const groupMessage = z
  .object({ ...common, type: z.literal('group'), groupId: id, traits: jsonObject.optional().nullable() })
  .refine(needsIdentity, identityIssue);

export const aliasMessage = z.object({ ...common, type: z.literal('alias'), userId: id, previousId: id });

export const messageSchemas = {
  track: trackMessage,
  identify: identifyMessage,
  page: pageMessage,
  screen: screenMessage,
  group: groupMessage,
  alias: aliasMessage,
} as const;

export type MessageType = keyof typeof messageSchemas;
export const messageTypes = Object.keys(messageSchemas) as MessageType[];

export type Message = z.output<(typeof messageSchemas)[MessageType]>;

/** The batch envelope; each item is validated on its own so one bad event does not sink the rest. */
export const batchBody = z.object({
  batch: z.array(z.unknown()).min(1, 'batch must hold at least one event'),
  context: jsonObject.optional().nullable(),
  integrations: jsonObject.optional().nullable(),
  sentAt: isoDate.optional().nullable(),
  writeKey: z.string().optional(),
});

export interface MessageIssue {
  path: string;
  message: string;
}

export type ParsedMessage = { ok: true; message: Message } | { ok: false; issues: MessageIssue[] };

/** Validates one message whose type is already known (single endpoints) or read from its `type` field (batch). */
export function parseMessage(input: unknown, forcedType?: MessageType): ParsedMessage {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return { ok: false, issues: [{ path: '', message: 'a message must be a JSON object' }] };
  }
  const record = input as Record<string, unknown>;
  const type = forcedType ?? record.type;
  if (typeof type !== 'string' || !(type in messageSchemas)) {
    return {
      ok: false,
      issues: [{ path: 'type', message: `type must be one of ${messageTypes.join(', ')}` }],
    };
  }
  const schema = messageSchemas[type as MessageType];
  // A copy only when the endpoint supplies the type; zod builds its own output object either way.
  const result = schema.safeParse(record.type === type ? record : { ...record, type });
  if (result.success) return { ok: true, message: result.data };
  return {
    ok: false,
    issues: result.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })),
  };
}
