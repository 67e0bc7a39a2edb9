// Segment message shapes of the demo: stable ids, the SDK context of each device, and drafts dated before `now`.
import { createHash } from 'node:crypto';
import { appDevices, userAgents } from './catalog';

export type DemoMessageType = 'track' | 'identify' | 'page' | 'screen' | 'alias';

type JsonObject = Record<string, unknown>;

/** One Segment message as `/v1/batch` takes it. */
export interface DemoMessage {
  type: DemoMessageType;
  messageId: string;
  timestamp: string;
  userId?: string;
  anonymousId?: string;
  previousId?: string;
  event?: string;
  name?: string;
  properties?: JsonObject;
  traits?: JsonObject;
  context: JsonObject;
}

/** A message before it gets its id and time; `at` is epoch ms. */
export interface Draft {
  at: number;
  message: Omit<DemoMessage, 'messageId' | 'timestamp'>;
}

/**
 * A UUID-shaped id derived from its parts. Ids of people and devices leave out everything but the seed and the
 * customer, so a customer is the same person in every demo of that seed; message ids also name the number of months.
 */
export function stableId(...parts: Array<string | number>): string {
  const hex = createHash('sha256').update(parts.join('/')).digest('hex');
  const variant = ((Number.parseInt(hex.charAt(16), 16) & 3) | 8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** Who a message is about, as the sending system knows them. */
export interface Sender {
  userId?: string;
  anonymousId?: string;
  context: JsonObject;
}

const locale = { locale: 'vi-VN', timezone: 'Asia/Ho_Chi_Minh' };

export function webContext(userAgentIndex: number): JsonObject {
  return {
    library: { name: 'analytics.js', version: '5.2.0' },
    userAgent: userAgents[userAgentIndex % userAgents.length],
    ...locale,
  };
}

export function appContext(deviceIndex: number): JsonObject {
  const device = appDevices[deviceIndex % appDevices.length] as (typeof appDevices)[number];
  return {
    library: { name: device.library, version: device.library === 'analytics-ios' ? '4.1.8' : '4.11.3' },
    app: { name: 'Cửa Hàng', version: '4.2.0', build: '420' },
    device: { type: device.type, manufacturer: device.manufacturer, model: device.model },
    os: device.os,
    ...locale,
  };
}

/** Back-office systems (helpdesk, email and SMS tools, store tills) send from a server library. */
export const serverContext: JsonObject = { library: { name: 'analytics-node', version: '6.2.0' } };

/** Server context that also names the customer by phone or email, so the event joins the profile holding them. */
export function serverContextWith(traits: JsonObject): JsonObject {
  return { ...serverContext, traits };
}

export function track(sender: Sender, event: string, properties: JsonObject): Draft['message'] {
  return { type: 'track', ...who(sender), event, properties, context: sender.context };
}

function who(sender: Sender): { userId?: string; anonymousId?: string } {
  const ids: { userId?: string; anonymousId?: string } = {};
  if (sender.userId) ids.userId = sender.userId;
  if (sender.anonymousId) ids.anonymousId = sender.anonymousId;
  return ids;
}

export function identify(sender: Sender, traits: JsonObject): Draft['message'] {
  return { type: 'identify', ...who(sender), traits, context: sender.context };
}

export function page(sender: Sender, name: string, properties: JsonObject): Draft['message'] {
  return { type: 'page', ...who(sender), name, properties, context: { ...sender.context, page: properties } };
}

export function screen(sender: Sender, name: string, properties: JsonObject): Draft['message'] {
  return { type: 'screen', ...who(sender), name, properties, context: sender.context };
}

export function alias(sender: Sender & { userId: string }, previousId: string): Draft['message'] {
  return { type: 'alias', userId: sender.userId, previousId, context: sender.context };
}

/**
 * The customer's drafts as messages: ids by creation order (so they do not depend on `now`), anything dated after
 * `now` left out (a reply or resolution that has not happened yet), sorted by time.
 */
export function finish(drafts: Draft[], now: number, idOf: (sequence: number) => string): DemoMessage[] {
  const dated = drafts
    .map((draft, sequence) => ({ at: Math.round(draft.at), sequence, draft }))
    .filter((entry) => entry.at <= now)
    .sort((a, b) => a.at - b.at || a.sequence - b.sequence);
  return dated.map(({ at, sequence, draft }) => ({
    messageId: idOf(sequence),
    timestamp: new Date(at).toISOString(),
    ...draft.message,
  }));
}
