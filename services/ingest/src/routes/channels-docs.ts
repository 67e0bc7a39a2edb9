// OpenAPI documentation of the messaging channels' webhooks: bodies as the providers document them, answers with examples.
import {
  documented,
  errorReply,
  inputJsonSchema,
  jsonReply,
  type DocumentedRoute,
  type ErrorExample,
  type JsonSchema,
  type ResponseDoc,
  type RouteDoc,
} from '@cdp/runtime';
import { helpdeskEventSchema, helpdeskExample } from '../channels/helpdesk';

const accepted = jsonReply(
  'Every event of the delivery is durably in the event log',
  { type: 'object', additionalProperties: true, properties: { success: { type: 'boolean', enum: [true] } } },
  { success: true },
);

const stale: ErrorExample = {
  code: 'STALE_REQUEST',
  message: 'the delivery is from 2025-03-01T09:30:00.000Z, older than the 24 h a redelivery is recognised within',
};

/** The answers of a webhook checked with the `header` signature, `invalid` the message of a wrong one. */
function answers(header: string, invalid: string, staleExample: ErrorExample = stale): Record<string, ResponseDoc> {
  const signature: ErrorExample[] = [
    { code: 'MISSING_SIGNATURE', message: `the ${header} header is required: the provider signs every delivery` },
    { code: 'INVALID_SIGNATURE', message: invalid },
    staleExample,
  ];
  return {
    200: accepted,
    400: errorReply('Malformed body, or a delivery that is not of this channel', [
      { code: 'INVALID_JSON', message: 'body is not valid JSON: Unexpected end of JSON input' },
      {
        code: 'INVALID_REQUEST',
        message: 'timestamp must be the time in milliseconds since 1970 (Zalo sends it as a string)',
        errors: [{ path: 'timestamp', message: 'timestamp must be the time in milliseconds since 1970' }],
      },
    ]),
    401: errorReply('No signature, a wrong one, or a delivery too old to be told from a replay', signature),
    404: errorReply('The channel is not configured', [
      {
        code: 'CHANNEL_NOT_CONFIGURED',
        message: 'the Zalo channel is not configured: set CDP_ZALO_APP_ID and CDP_ZALO_OA_SECRET',
      },
    ]),
  };
}

/** A signed webhook's document: its security scheme, its body, and the answers of its signature check. */
function webhookDoc(doc: {
  scheme: string;
  summary: string;
  description: string;
  body: RouteDoc['body'];
  header: string;
  invalid: string;
  stale?: ErrorExample;
}): DocumentedRoute {
  return documented({
    tags: ['channels'],
    security: [{ [doc.scheme]: [] }],
    summary: doc.summary,
    description: doc.description,
    body: doc.body,
    responses: answers(doc.header, doc.invalid, doc.stale),
  });
}

const openObject = (description: string, properties: Record<string, JsonSchema>, required: string[]): JsonSchema => ({
  type: 'object',
  description,
  additionalProperties: true,
  properties,
  required,
});

export const zaloDoc: DocumentedRoute = webhookDoc({
  scheme: 'zaloSignature',
  header: 'x-zevent-signature',
  invalid:
    'X-ZEvent-Signature is not mac=sha256(app id + body + timestamp + OA secret key) for the configured Official Account',
  summary: 'Receive a Zalo Official Account webhook event',
  description:
    "Set this URL as the Official Account app's webhook. Checked with `X-ZEvent-Signature: mac=<hex SHA-256 of app id + raw body + timestamp + OA secret key>` " +
    '(CDP_ZALO_APP_ID, CDP_ZALO_OA_SECRET). `user_send_*` become `Message Received`, `oa_send_*` `Message Sent` (channel social, platform zalo), ' +
    '`follow`/`unfollow` `Subscribed`/`Unsubscribed` (channel zalo), `user_submit_info` an identify with the shared ' +
    'name and phone; any other event is kept as `Zalo <event_name>`. The follower id links profiles as `zalo_id`.',
  body: {
    schema: openObject(
      'A Zalo OA event as Zalo posts it',
      {
        app_id: { type: 'string' },
        event_name: { type: 'string' },
        timestamp: { type: 'string', description: 'milliseconds since 1970, as text' },
        sender: { type: 'object', properties: { id: { type: 'string' } } },
        recipient: { type: 'object', properties: { id: { type: 'string' } } },
        message: { type: 'object', properties: { msg_id: { type: 'string' }, text: { type: 'string' } } },
      },
      ['event_name', 'timestamp'],
    ),
    example: {
      app_id: '360846524940903967',
      user_id_by_app: '552177279252305962',
      event_name: 'user_send_text',
      timestamp: '1740821400000',
      sender: { id: '246845883529197922' },
      recipient: { id: '388613280878808645' },
      message: { text: 'Đơn hàng của tôi đến đâu rồi?', msg_id: '96d3cdf3af150460909' },
    },
  },
});

export const messengerVerifyDoc: DocumentedRoute = documented({
  tags: ['channels'],
  security: [{ messengerVerifyToken: [] }],
  summary: "Answer the Messenger webhook's subscription check",
  description:
    'Meta calls this when the webhook is set up: with `hub.mode=subscribe` and the verify token you gave it ' +
    '(CDP_MESSENGER_VERIFY_TOKEN), the answer is `hub.challenge` as plain text.',
  querystring: {
    type: 'object',
    properties: {
      'hub.mode': { type: 'string', enum: ['subscribe'] },
      'hub.verify_token': { type: 'string' },
      'hub.challenge': { type: 'string' },
    },
    required: ['hub.mode', 'hub.verify_token', 'hub.challenge'],
  },
  responses: {
    200: {
      description: 'The challenge, echoed',
      content: { 'text/plain': { schema: { type: 'string' }, example: '1158201444' } },
    },
    400: errorReply('Not a subscription check', [
      {
        code: 'INVALID_REQUEST',
        message: 'a subscription check carries hub.mode=subscribe, hub.verify_token and hub.challenge',
      },
    ]),
    403: errorReply('The verify token is not the configured one', [
      { code: 'INVALID_VERIFY_TOKEN', message: 'hub.verify_token is not the configured CDP_MESSENGER_VERIFY_TOKEN' },
    ]),
    404: errorReply('The channel is not configured', [
      {
        code: 'CHANNEL_NOT_CONFIGURED',
        message: 'the Messenger channel is not configured: set CDP_MESSENGER_APP_SECRET and CDP_MESSENGER_VERIFY_TOKEN',
      },
    ]),
  },
});

export const messengerDoc: DocumentedRoute = webhookDoc({
  scheme: 'hubSignature',
  header: 'x-hub-signature-256',
  invalid: 'X-Hub-Signature-256 is not sha256=<HMAC-SHA256 of the body under the configured app secret>',
  summary: 'Receive a Messenger Platform webhook delivery',
  description:
    "Subscribe the Page's `messages` and `messaging_postbacks` fields to this URL. Checked with `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body under the app secret>` " +
    '(CDP_MESSENGER_APP_SECRET). A `message` becomes `Message Received` (an echo `Message Sent`; channel social, platform messenger), a `postback` ' +
    '`Message Button Clicked`, any other event `Messenger <kind>`. The page-scoped id links profiles as `messenger_psid`.',
  body: {
    schema: openObject(
      'A Messenger delivery: one or more entries of messaging events',
      { object: { type: 'string', enum: ['page'] }, entry: { type: 'array', items: { type: 'object' } } },
      ['object', 'entry'],
    ),
    example: {
      object: 'page',
      entry: [
        {
          id: '106977658521234',
          time: 1740821400000,
          messaging: [
            {
              sender: { id: '6543210987654321' },
              recipient: { id: '106977658521234' },
              timestamp: 1740821399000,
              message: { mid: 'm_AbC123', text: 'Shop còn size M không?' },
            },
          ],
        },
      ],
    },
  },
});

export const helpdeskDoc: DocumentedRoute = webhookDoc({
  scheme: 'cdpSignature',
  header: 'x-cdp-signature',
  invalid: 'X-CDP-Signature is not t=<unix seconds>,v1=<HMAC-SHA256 of "<t>.<body>" under CDP_HELPDESK_SECRET>',
  stale: {
    code: 'STALE_REQUEST',
    message: "X-CDP-Signature's t is more than 300 s from now: sign each delivery when sending it",
  },
  summary: 'Receive a helpdesk ticket event',
  description:
    'Signed like the webhooks this platform sends: `X-CDP-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" under CDP_HELPDESK_SECRET>`, ' +
    'within 5 minutes of now. `ticket.opened` becomes `Ticket Opened`, `ticket.replied` `Ticket Replied`, ' +
    "`ticket.solved` `Ticket Resolved` (`helpdesk`: CDP_HELPDESK_NAME, `channel`: the ticket's own); any other type is kept as `Helpdesk <type>`.",
  body: { schema: inputJsonSchema(helpdeskEventSchema), example: helpdeskExample },
});
