// OpenAPI documentation of the segment endpoints; the rule language's JSON Schema is derived from its zod schema.
import { z } from 'zod';
import {
  documented,
  errorReply,
  jsonReply,
  queryLimitReplies,
  type DocumentedRoute,
  type JsonSchema,
  type RouteDoc,
  type RouteInput,
} from '@cdp/runtime';
import { subscriptionChannels } from '@cdp/profiles';
import { narrowPreview } from '../narrowing';
import { previewBodySchema, segmentBodySchema, segmentRuleSchema, segmentRuleShape } from '@cdp/schemas';

const ruleRef = { $ref: '#/components/schemas/SegmentRule' };
// zod writes the recursion as a reference to the document root; in OpenAPI the root is the component.
const ruleSchema = JSON.parse(
  JSON.stringify(
    z.toJSONSchema(segmentRuleShape, { target: 'openapi-3.0', io: 'input', unrepresentable: 'any' }),
  ).replaceAll('{"$ref":"#"}', JSON.stringify(ruleRef)),
) as JsonSchema;
const components = {
  SegmentRule: {
    ...ruleSchema,
    description:
      'A segment rule: and / or / not over trait, stat and behaviour conditions (services/segments/README.md).',
  },
};
// The rule is validated node by node (exact paths for every problem); the document shows its shape, the component.
const shownAs = new Map<z.ZodType, JsonSchema>([[segmentRuleSchema, ruleRef]]);

const exampleRule = {
  and: [
    { stat: 'orders', gte: 2 },
    { event: 'Order Completed', atLeast: 1, withinDays: 30, where: [{ property: 'channel', equals: 'web' }] },
  ],
};
const exampleSegment = {
  id: 'seg_3f9a1c2b7d4e5f60',
  name: 'Recent repeat web buyers',
  kind: 'custom',
  rule: exampleRule,
  size: 412,
  updatedAt: '2025-03-01T12:00:00.000Z',
};

const segmentSchema = {
  type: 'object',
  additionalProperties: true,
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    kind: {
      type: 'string',
      enum: ['builtin', 'custom'],
      description: 'built-ins are created on first start and cannot be changed or deleted',
    },
    rule: ruleRef,
    size: { type: 'integer', description: 'members as of the last evaluation' },
    updatedAt: { type: 'string', format: 'date-time' },
  },
};
const idParams = z.object({ id: z.string() });

const invalidSegment = errorReply('The rule or the name is not valid: every problem with its exact path', [
  {
    code: 'INVALID_SEGMENT',
    message: 'the segment is not valid',
    errors: [{ path: 'rule.and.1.gte', message: 'Invalid input: expected number, received string' }],
  },
]);
const notFound = errorReply('No segment has that id', [
  { code: 'NOT_FOUND', message: 'no segment seg_0000000000000000' },
]);
const readOnly = errorReply('Built-in segments cannot be changed or deleted', [
  { code: 'READ_ONLY_SEGMENT', message: 'lifecycle-new is a built-in segment' },
]);

const doc = <Input extends RouteInput>(
  route: Omit<RouteDoc<Input>, 'tags' | 'security' | 'components' | 'shownAs'> & Required<Pick<RouteDoc, 'scope'>>,
): DocumentedRoute<Input> => documented({ ...route, tags: ['segments'], components, shownAs });
/** A body that is not a valid segment is answered as one, INVALID_SEGMENT. */
const invalidBody = { code: 'INVALID_SEGMENT', lead: 'the segment is not valid' } as const;

const listedSegmentSchema = {
  ...segmentSchema,
  properties: {
    ...segmentSchema.properties,
    entered: { type: 'integer', description: 'profiles that entered the segment in the latest evaluation' },
    exited: { type: 'integer', description: 'profiles that left it in the latest evaluation' },
  },
};

export const listDoc = doc({
  scope: 'analytics',
  summary: 'List segments',
  description:
    'Every built-in and custom segment with its size as of the last evaluation, and how many profiles entered and left it in that evaluation.',
  responses: {
    200: jsonReply(
      'The segments',
      {
        type: 'object',
        properties: {
          evaluatedAt: {
            type: 'string',
            format: 'date-time',
            nullable: true,
            description:
              "when the latest evaluation that has ended began (every segment's changes of it stored); null before the first",
          },
          segments: { type: 'array', items: listedSegmentSchema },
        },
      },
      { evaluatedAt: '2025-03-01T12:05:00.000Z', segments: [{ ...exampleSegment, entered: 12, exited: 3 }] },
    ),
  },
});

export const createDoc = doc({
  scope: 'segments:write',
  summary: 'Create a segment',
  description: 'Saves a custom segment; it is evaluated at once and then every `CDP_SEGMENTS_INTERVAL_MS`.',
  validate: { body: segmentBodySchema },
  invalid: invalidBody,
  body: { example: { name: exampleSegment.name, rule: exampleRule } },
  responses: {
    201: jsonReply('The segment as saved (size 0 until its first evaluation)', segmentSchema, {
      ...exampleSegment,
      size: 0,
    }),
    400: invalidSegment,
  },
});

export const readDoc = doc({
  scope: 'analytics',
  summary: 'Read a segment',
  description:
    'The segment with its size as of the last evaluation, who entered and left it in that evaluation, and when it began.',
  validate: { params: idParams },
  responses: {
    200: jsonReply(
      'The segment',
      {
        ...listedSegmentSchema,
        properties: {
          ...listedSegmentSchema.properties,
          evaluatedAt: {
            type: 'string',
            format: 'date-time',
            nullable: true,
            description:
              "when the latest evaluation that has ended began (every segment's changes of it stored); null before the first",
          },
        },
      },
      { ...exampleSegment, entered: 12, exited: 3, evaluatedAt: '2025-03-01T12:05:00.000Z' },
    ),
    404: notFound,
  },
});

export const replaceDoc = doc({
  scope: 'segments:write',
  summary: 'Replace a custom segment',
  validate: { params: idParams, body: segmentBodySchema },
  invalid: invalidBody,
  body: { example: { name: exampleSegment.name, rule: exampleRule } },
  responses: {
    200: jsonReply('The segment as saved', segmentSchema, exampleSegment),
    400: invalidSegment,
    404: notFound,
    409: readOnly,
  },
});

export const deleteDoc = doc({
  scope: 'segments:write',
  summary: 'Delete a custom segment',
  description: 'Its members exit at the next evaluation.',
  validate: { params: idParams },
  responses: { 204: { description: 'Deleted' }, 404: notFound, 409: readOnly },
});

export const previewDoc = doc({
  scope: 'analytics',
  summary: 'Preview a rule',
  description:
    'How many profiles match the rule, and a sample of their ids, without saving anything. Stats, the traits saved rules name and their behaviour counts are read as of the last completed evaluation (about `CDP_SEGMENTS_INTERVAL_MS` plus the time one evaluation takes, longer while no evaluator runs; windows ending then); other traits and behaviours are read from the current data.',
  validate: { body: previewBodySchema },
  invalid: invalidBody,
  body: { example: { rule: exampleRule } },
  responses: {
    200: jsonReply(
      'Count and sample',
      {
        type: 'object',
        properties: { count: { type: 'integer' }, sample: { type: 'array', items: { type: 'string' } } },
      },
      { count: 412, sample: ['prf_01', 'prf_02'] },
    ),
    400: invalidSegment,
    ...queryLimitReplies(narrowPreview),
  },
});

const memberExample = {
  profileId: 'prf_3f9a1c2b7d4e5f60718293a4',
  userId: 'ada',
  emails: ['ada@example.com'],
  phones: ['+84912345678'],
  anonymousIds: ['d1b3c9a0-5f1e-4c1a-9d7e-3b2f1a0c9e88'],
  traits: { plan: 'pro' },
};
const memberSchema = {
  type: 'object',
  additionalProperties: true,
  properties: {
    profileId: { type: 'string' },
    userId: { type: 'string', nullable: true },
    emails: { type: 'array', items: { type: 'string' } },
    phones: { type: 'array', items: { type: 'string' } },
    anonymousIds: { type: 'array', items: { type: 'string' } },
    traits: {
      type: 'object',
      additionalProperties: true,
      description: 'the latest value of each trait named in `traits`, when the profile has it',
    },
  },
};

/** Parameters of an audience page; the streamed formats read only `traits` and `subscribed`. */
export const membersQuery = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(100).describe('members per page'),
  cursor: z.string().max(1000).optional().describe('`nextCursor` of the previous page'),
  traits: z
    .string()
    .max(5000)
    .optional()
    .transform((text) => [
      ...new Set(
        (text ?? '')
          .split(',')
          .map((key) => key.trim())
          .filter(Boolean),
      ),
    ])
    .refine(
      (keys) => keys.length <= 50 && keys.every((key) => key.length <= 200),
      'at most 50 trait keys of at most 200 characters',
    )
    .describe('comma-separated trait keys to include, e.g. `plan,city` (at most 50)'),
  subscribed: z
    .enum(subscriptionChannels)
    .optional()
    .describe(
      'only members whose latest subscription state for this channel is `subscribed` (over every profile they absorbed); a member who never stated one is left out',
    ),
});

export const membersDoc = doc({
  scope: 'audiences',
  summary: "A segment's audience",
  description:
    'Current members (as of the last evaluation) in profile id order. With `Accept: application/x-ndjson` (one member a line) or `text/csv` the whole audience is streamed, read in pages by profile id, and `limit` / `cursor` are ignored.',
  validate: { params: idParams, querystring: membersQuery },
  responses: {
    200: {
      description: 'A page of members, or the whole audience streamed',
      content: {
        'application/json': {
          schema: {
            type: 'object',
            properties: {
              members: { type: 'array', items: memberSchema },
              nextCursor: { type: 'string', nullable: true },
            },
          },
          example: { members: [memberExample], nextCursor: 'cHJmXzNmOWExYzJiN2Q0ZTVmNjA3MTgyOTNhNA' },
        },
        'application/x-ndjson': { schema: { type: 'string' }, example: `${JSON.stringify(memberExample)}\n` },
        'text/csv': {
          schema: { type: 'string' },
          example:
            'profileId,userId,emails,phones,anonymousIds,trait:plan\r\nprf_3f9a1c2b7d4e5f60718293a4,ada,ada@example.com,+84912345678,d1b3c9a0-5f1e-4c1a-9d7e-3b2f1a0c9e88,pro\r\n',
        },
      },
    },
    400: errorReply('A query parameter is not valid', [
      { code: 'INVALID_REQUEST', message: 'limit: Too big: expected number to be <=1000' },
    ]),
    404: notFound,
  },
});
