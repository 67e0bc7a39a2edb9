// Our helpdesk ticket webhook: one documented JSON shape, signed like our outbound webhooks, mapped onto the Care events.
import { z } from 'zod';
import { AppError } from '@cdp/runtime';
import { statedChannels } from '@cdp/schemas';
import { channelPhone, derivedMessageId, genericEventName, type JsonObject } from './message';

const id = z.union([z.string().min(1).max(200), z.number().int()]).transform(String);

export const helpdeskEventSchema = z.object({
  id: id.describe('the helpdesk event id: a redelivery with the same id is stored once'),
  type: z
    .string()
    .min(1)
    .max(100)
    .describe('ticket.opened, ticket.replied (an agent answered), ticket.solved; any other type is kept as is'),
  occurredAt: z.iso.datetime({ offset: true }).describe('when it happened (ISO 8601)'),
  ticket: z
    .object({
      id: id.describe('the ticket id (`properties.ticket_id`)'),
      type: z.enum(['question', 'complaint', 'request']).optional(),
      channel: z
        .string()
        .max(100)
        .optional()
        .describe(
          'where the customer wrote from: one of the tracking plan channels becomes `properties.channel`; another ' +
            'value is kept as `properties.ticket_channel` and, like none, counts as channel unknown',
        ),
      subject: z.string().max(1000).optional(),
    })
    .catchall(z.unknown()),
  customer: z.object({
    id: id.describe("the requester's id in the helpdesk"),
    userId: id.optional().describe('your own id of the customer, when the helpdesk knows it'),
    email: z.string().max(320).optional(),
    phone: z.string().max(50).optional(),
    name: z.string().max(500).optional(),
  }),
  agent: z.object({ id: id.optional(), name: z.string().max(500).optional() }).optional(),
});

export type HelpdeskEvent = z.infer<typeof helpdeskEventSchema>;

export const helpdeskExample = {
  id: 'evt_1001',
  type: 'ticket.opened',
  occurredAt: '2025-03-01T09:30:00.000Z',
  ticket: { id: 'T-501', type: 'complaint', subject: 'Giao hàng trễ', channel: 'email' },
  customer: { id: 'req_77', userId: 'ada', email: 'ada@example.com', phone: '0912 345 678', name: 'Ada' },
};

const ticketEvents: Record<string, string> = {
  'ticket.opened': 'Ticket Opened',
  'ticket.replied': 'Ticket Replied',
  'ticket.solved': 'Ticket Resolved',
};

export function parseHelpdeskEvent(body: unknown): HelpdeskEvent {
  const parsed = helpdeskEventSchema.safeParse(body);
  if (parsed.success) return parsed.data;
  throw new AppError(
    'INVALID_REQUEST',
    'the body is not a helpdesk ticket event (see the Messaging channels section of the ingest README)',
    parsed.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })),
  );
}

/** The track message of a ticket event; the customer's email and phone ride in `context.traits` and link profiles. */
export function helpdeskMessage(event: HelpdeskEvent, helpdesk: string): JsonObject {
  const { customer, ticket, agent } = event;
  const phone = customer.phone === undefined ? null : channelPhone(customer.phone);
  const traits = {
    ...(customer.email ? { email: customer.email } : {}),
    ...(phone ? { phone } : {}),
    ...(customer.name ? { name: customer.name } : {}),
  };
  const { id: ticketId, channel, ...ticketFields } = ticket;
  const stated = (statedChannels as readonly string[]).includes(channel ?? '');
  return {
    type: 'track',
    event: ticketEvents[event.type] ?? genericEventName('Helpdesk', event.type),
    messageId: derivedMessageId(helpdesk, event.id),
    anonymousId: `${helpdesk}:${customer.id}`,
    ...(customer.userId ? { userId: customer.userId } : {}),
    timestamp: event.occurredAt,
    properties: {
      ...ticketFields,
      ticket_id: ticketId,
      ...(stated ? { channel } : channel ? { ticket_channel: channel } : {}),
      helpdesk,
      ...(agent?.id ? { agent_id: agent.id } : {}),
      ...(agent?.name ? { agent_name: agent.name } : {}),
    },
    context: { traits, library: { name: `${helpdesk}-webhook` } },
  };
}
