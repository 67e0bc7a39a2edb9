// Messenger Platform webhook deliveries (`object: "page"`, entries of `messaging` events) as Segment messages.
import { asObject, channelEnvelope, derivedMessageId, epochMsOf, genericEventName } from './message';
import { idOf, invalidDelivery, type JsonObject } from './message';

export interface MessengerDelivery {
  /** Every time the delivery states (entry times, event timestamps), for the age check. */
  times: number[];
  messages: JsonObject[];
}

const envelopeKeys = new Set(['sender', 'recipient', 'timestamp']);

/** One messaging event: `message` (an echo is the page's own), `postback`, and any other kind kept as `Messenger <kind>`. */
function messagingMessage(event: JsonObject, pageId: string, path: string): { time: number; message: JsonObject } {
  const time = epochMsOf(event.timestamp, `${path}.timestamp`);
  const kind = Object.keys(event).find((key) => !envelopeKeys.has(key));
  if (!kind) throw invalidDelivery('a messaging event must hold a message, postback or other event', path);
  const detail = asObject(event[kind]);
  const echo = kind === 'message' && detail.is_echo === true;
  const psid = idOf(asObject(echo ? event.recipient : event.sender).id);
  if (!psid) throw invalidDelivery(`${echo ? 'recipient' : 'sender'}.id must be the page-scoped user id`, path);
  const mid = idOf(detail.mid);
  const common: JsonObject = {
    type: 'track',
    ...channelEnvelope({
      idType: 'messenger_psid',
      userId: psid,
      accountId: pageId,
      messageId: derivedMessageId('messenger', pageId, kind, mid ?? JSON.stringify(event)),
      timeMs: time,
      library: 'messenger-webhook',
    }),
  };
  // A conversation on Messenger is a social touchpoint, as the tracking plan names channels; `platform` says which.
  const base = { channel: 'social', platform: 'messenger', page_id: pageId };
  if (kind === 'message') {
    const attachments = Array.isArray(detail.attachments) ? detail.attachments : [];
    return {
      time,
      message: {
        ...common,
        event: echo ? 'Message Sent' : 'Message Received',
        properties: {
          ...base,
          message_type: typeof detail.text === 'string' ? 'text' : (asObject(attachments[0]).type ?? 'unknown'),
          ...(mid ? { message_id: mid } : {}),
          ...(typeof detail.text === 'string' ? { text: detail.text } : {}),
          ...(attachments.length > 0 ? { attachments } : {}),
          ...(detail.quick_reply ? { quick_reply: detail.quick_reply } : {}),
        },
      },
    };
  }
  if (kind === 'postback') {
    return {
      time,
      message: {
        ...common,
        event: 'Message Button Clicked',
        properties: { ...base, ...detail, ...(mid ? { message_id: mid } : {}) },
      },
    };
  }
  const raw = typeof event[kind] === 'object' && event[kind] !== null ? detail : { value: event[kind] };
  return { time, message: { ...common, event: genericEventName('Messenger', kind), properties: { ...raw, ...base } } };
}

/** Every event of a delivery; entries without `messaging` (feed `changes`) carry no customer and are passed over. */
export function messengerDelivery(body: JsonObject): MessengerDelivery {
  if (body.object !== 'page')
    throw invalidDelivery('object must be "page": this endpoint takes Messenger deliveries of a Page', 'object');
  if (!Array.isArray(body.entry) || body.entry.length === 0)
    throw invalidDelivery('entry must be a non-empty array', 'entry');
  const times: number[] = [];
  const messages: JsonObject[] = [];
  body.entry.forEach((item, index) => {
    const entry = asObject(item);
    const path = `entry.${index}`;
    const pageId = idOf(entry.id);
    if (!pageId) throw invalidDelivery('each entry needs the id of its Page', `${path}.id`);
    times.push(epochMsOf(entry.time, `${path}.time`));
    // `standby` holds what a secondary receiver of the handover protocol sees: the same events.
    for (const field of ['messaging', 'standby'] as const) {
      const events = entry[field];
      if (events === undefined) continue;
      if (!Array.isArray(events)) throw invalidDelivery(`${field} must be an array`, `${path}.${field}`);
      events.forEach((event, position) => {
        const mapped = messagingMessage(asObject(event), pageId, `${path}.${field}.${position}`);
        times.push(mapped.time);
        messages.push(mapped.message);
      });
    }
  });
  return { times, messages };
}
