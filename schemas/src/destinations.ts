// Destinations: where the platform pushes what it knows (a webhook), and the triggers that make it push.
import { z } from 'zod';

export const destinationLimits = {
  triggers: 20,
  filters: 10,
  headers: 20,
  text: 200,
  template: 20_000,
  batch: 100,
  ratePerSecond: 1000,
  traits: 100,
} as const;

const text = z.string().min(1).max(destinationLimits.text);
const scalar = z.union([z.string().max(destinationLimits.text), z.number(), z.boolean()]);

/** A profile entered (or left) a segment, as the segments engine published it on `cdp.segments.changes`. */
export const segmentTriggerSchema = z.strictObject({
  kind: z.literal('segment'),
  segmentId: text,
  on: z.enum(['entered', 'exited']).default('entered'),
});

/** An event of this name whose properties equal every filter (a dotted path reaches into nested objects). */
const eventMatchSchema = z.strictObject({
  event: text,
  where: z
    .array(z.strictObject({ property: text, equals: scalar }))
    .max(destinationLimits.filters)
    .default([]),
});

export const eventTriggerSchema = eventMatchSchema.extend({ kind: z.literal('event') });

/** The units a delay is given in, as milliseconds; seconds serve tests and short SLAs. */
export const delayUnits = { seconds: 1000, minutes: 60_000, hours: 3_600_000, days: 86_400_000 } as const;
const longestDelayMs = 366 * delayUnits.days;

/** How long after its event a follow-up fires: `{ "value": 3, "unit": "days" }`, at most 366 days. */
export const delaySchema = z
  .strictObject({
    value: z.number().int('must be a whole number').positive(),
    unit: z.enum(['seconds', 'minutes', 'hours', 'days']),
  })
  .refine((delay) => delay.value * delayUnits[delay.unit] <= longestDelayMs, 'at most 366 days');
export type Delay = z.infer<typeof delaySchema>;
export const delayMs = (delay: Delay) => delay.value * delayUnits[delay.unit];

/**
 * `after` a matching event, unless the same customer sent the `unless` event in between (and, with `matchOn`, one
 * whose property at that path equals the first event's: the same ticket, the same order).
 */
export const followUpTriggerSchema = eventMatchSchema
  .extend({
    kind: z.literal('followUp'),
    after: delaySchema,
    unless: eventMatchSchema.optional(),
    matchOn: text.optional(),
  })
  .refine((rule) => rule.matchOn === undefined || rule.unless !== undefined, {
    message: 'matchOn pairs the event with its unless event: name an unless event',
    path: ['matchOn'],
  });

/** `daysBefore` days before each anniversary of a date trait (`YYYY-MM-DD…`), once a year per profile. */
export const anniversaryTriggerSchema = z.strictObject({
  kind: z.literal('anniversary'),
  trait: text,
  daysBefore: z.number().int('must be a whole number').min(0).max(90, 'at most 90 days').default(0),
});

export const triggerSchema = z.discriminatedUnion('kind', [
  segmentTriggerSchema,
  eventTriggerSchema,
  followUpTriggerSchema,
  anniversaryTriggerSchema,
]);
export type Trigger = z.infer<typeof triggerSchema>;
export type SegmentTrigger = z.infer<typeof segmentTriggerSchema>;
export type EventTrigger = z.infer<typeof eventTriggerSchema>;
export type FollowUpTrigger = z.infer<typeof followUpTriggerSchema>;
export type AnniversaryTrigger = z.infer<typeof anniversaryTriggerSchema>;

/** Header names a destination may not set: the platform sets them, or they would confuse the request itself. */
export const reservedHeaders = [
  'content-type',
  'content-length',
  'host',
  'idempotency-key',
  'x-cdp-signature',
  'transfer-encoding',
  'connection',
];

const headerName = z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$/, 'must be an HTTP header name');

const headers = z
  .record(headerName, z.string().max(2000))
  .refine(
    (value) => Object.keys(value).length <= destinationLimits.headers,
    `at most ${destinationLimits.headers} headers`,
  )
  .refine(
    (value) => Object.keys(value).every((name) => !reservedHeaders.includes(name.toLowerCase())),
    `may not set ${reservedHeaders.join(', ')}`,
  );

/** Each field of a destination, without defaults: the body applies them, a patch must not. */
const fields = {
  name: text,
  url: z.url({ protocol: /^https?$/, message: 'must be an http or https URL' }).max(2000),
  headers,
  /** Signs every request (`X-CDP-Signature`); stored encrypted, never returned. */
  secret: z.string().min(16, 'must be at least 16 characters').max(200),
  /** A LiquidJS template of the request body; unset: the documented JSON shape. */
  template: z.string().max(destinationLimits.template),
  /** Which traits of the profile a delivery carries; unset: all. */
  traits: z.array(text).max(destinationLimits.traits),
  /** 1: one delivery per request; N: up to N deliveries in one request, as a JSON array. */
  batch: z.number().int().min(1).max(destinationLimits.batch),
  /** The most requests per second sent to this destination. */
  ratePerSecond: z.number().positive().max(destinationLimits.ratePerSecond),
  status: z.enum(['active', 'paused']),
  triggers: z.array(triggerSchema).min(1, 'name at least one trigger').max(destinationLimits.triggers),
};

/** A destination as a client creates or replaces it; the secret is write-only (never answered back). */
export const destinationBodySchema = z.strictObject({
  name: fields.name,
  kind: z.literal('webhook').default('webhook'),
  url: fields.url,
  headers: fields.headers.default({}),
  secret: fields.secret,
  template: fields.template.optional(),
  traits: fields.traits.optional(),
  batch: fields.batch.default(1),
  ratePerSecond: fields.ratePerSecond.default(10),
  status: fields.status.default('active'),
  triggers: fields.triggers,
});
/**
 * A change to a stored destination: the fields given replace the stored ones, the rest (the secret and the header
 * values among them, which a client cannot read back) are kept. `template` or `traits` null removes them.
 */
export const destinationPatchSchema = z.strictObject({
  name: fields.name.optional(),
  url: fields.url.optional(),
  headers: fields.headers.optional(),
  secret: fields.secret.optional(),
  template: fields.template.nullable().optional(),
  traits: fields.traits.nullable().optional(),
  batch: fields.batch.optional(),
  ratePerSecond: fields.ratePerSecond.optional(),
  status: fields.status.optional(),
  triggers: fields.triggers.optional(),
});
export type DestinationPatch = z.output<typeof destinationPatchSchema>;
export type DestinationBody = z.output<typeof destinationBodySchema>;

/** What `POST /v1/destinations/preview` renders: a template (and the traits chosen) over one real customer's payload. */
export const destinationPreviewSchema = z.strictObject({
  /** The customer, as the profile API addresses one: `{type}:{value}`, e.g. `user_id:ada`. */
  profile: z.string().min(3).max(2000),
  template: z.string().max(destinationLimits.template).optional(),
  traits: z.array(text).max(destinationLimits.traits).optional(),
});
export type DestinationPreview = z.output<typeof destinationPreviewSchema>;
