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
export const eventTriggerSchema = z.strictObject({
  kind: z.literal('event'),
  event: text,
  where: z
    .array(z.strictObject({ property: text, equals: scalar }))
    .max(destinationLimits.filters)
    .default([]),
});

export const triggerSchema = z.discriminatedUnion('kind', [segmentTriggerSchema, eventTriggerSchema]);
export type Trigger = z.infer<typeof triggerSchema>;
export type SegmentTrigger = z.infer<typeof segmentTriggerSchema>;
export type EventTrigger = z.infer<typeof eventTriggerSchema>;

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
