// Zalo Official Account webhook events (developers.zalo.me, "Webhook" of the Official Account API) as Segment messages.
import { asObject, channelEnvelope, channelPhone, derivedMessageId, epochMsOf } from './message';
import { genericEventName, idOf, invalidDelivery, type JsonObject } from './message';

/** The body's `timestamp` exactly as sent: the signature covers it as text. */
export function zaloTimestampOf(body: JsonObject): string {
  const stated = body.timestamp;
  if (typeof stated === 'number' && Number.isSafeInteger(stated)) return String(stated);
  if (typeof stated === 'string' && /^\d+$/.test(stated)) return stated;
  throw invalidDelivery(
    'timestamp must be the time in milliseconds since 1970 (Zalo sends it as a string)',
    'timestamp',
  );
}

/**
 * The follower the event is about: `follower` on follow and unfollow, the sender of what a user does (`user_*`),
 * the recipient of what the OA does (`oa_*`).
 */
function followerOf(body: JsonObject, eventName: string): string | null {
  const follower = idOf(asObject(body.follower).id);
  if (follower) return follower;
  const sender = idOf(asObject(body.sender).id);
  const recipient = idOf(asObject(body.recipient).id);
  return eventName.startsWith('oa_') ? recipient : (sender ?? recipient);
}

const subscriptionEvents: Record<string, string> = { follow: 'Subscribed', unfollow: 'Unsubscribed' };

/** The one message a Zalo event becomes; unknown events are kept as `Zalo <event_name>` with the raw fields. */
export function zaloMessage(body: JsonObject, receivedFrom: { appId: string }): JsonObject {
  const eventName = body.event_name;
  if (typeof eventName !== 'string' || eventName === '')
    throw invalidDelivery('event_name must name the Zalo event', 'event_name');
  const timestampMs = epochMsOf(zaloTimestampOf(body), 'timestamp');
  const follower = followerOf(body, eventName);
  const oaId = idOf(body.oa_id) ?? idOf(asObject(eventName.startsWith('oa_') ? body.sender : body.recipient).id);
  const message = asObject(body.message);
  const zaloMessageId = idOf(message.msg_id);
  const common = channelEnvelope({
    idType: 'zalo_id',
    userId: follower,
    accountId: oaId ?? receivedFrom.appId,
    messageId: derivedMessageId(
      'zalo',
      receivedFrom.appId,
      eventName,
      zaloMessageId ?? `${follower}\u0000${timestampMs}`,
    ),
    timeMs: timestampMs,
    library: 'zalo-oa-webhook',
  });
  // A conversation on Zalo is a social touchpoint, as the tracking plan names channels; `platform` says which.
  const base = { channel: 'social', platform: 'zalo', ...(oaId ? { oa_id: oaId } : {}) };

  if (eventName === 'user_submit_info') {
    const info = asObject(body.info);
    const phone = channelPhone(info.phone);
    const traits: JsonObject = { ...info, ...(phone ? { phone } : {}) };
    return { ...common, type: 'identify', traits };
  }
  const subscription = subscriptionEvents[eventName];
  if (subscription) {
    return {
      ...common,
      type: 'track',
      event: subscription,
      // Here `channel` is what the customer subscribed to, as `Subscribed` events name it: Zalo messages.
      properties: { ...base, channel: 'zalo', ...(typeof body.source === 'string' ? { source: body.source } : {}) },
    };
  }
  const sent = /^(user|oa)_send_(.+)$/.exec(eventName);
  if (sent) {
    return {
      ...common,
      type: 'track',
      event: sent[1] === 'user' ? 'Message Received' : 'Message Sent',
      properties: {
        ...base,
        message_type: sent[2],
        ...(zaloMessageId ? { message_id: zaloMessageId } : {}),
        ...(typeof message.text === 'string' ? { text: message.text } : {}),
        ...(Array.isArray(message.attachments) ? { attachments: message.attachments } : {}),
      },
    };
  }
  const { app_id: _appId, event_name: _eventName, timestamp: _timestamp, ...raw } = body;
  return {
    ...common,
    type: 'track',
    event: genericEventName('Zalo', eventName),
    properties: { ...raw, ...base },
  };
}
