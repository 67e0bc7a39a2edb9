// The demo generator: deterministic, valid by the platform's own schema, within the batch limits, and believable.
import { describe, expect, it } from 'vitest';
import { parseMessage } from '@cdp/schemas';
import { customersOf, identifiersOf } from './customers-of';
import { generateDemo, maxBatchBytes, maxBatchMessages } from './generate';
import type { DemoMessage } from './messages';

const now = Date.parse('2025-06-15T10:30:00.000Z');
const dayMs = 86_400_000;

const batchesOf = (seed: number, customers = 120, months = 6) => [...generateDemo({ customers, months, seed, now })];

describe('generateDemo', () => {
  const batches = batchesOf(1);
  const messages = batches.flat();

  it('gives the same batches, messageIds included, for the same seed and now', () => {
    expect(batchesOf(1)).toEqual(batches);
  });

  it('gives other customers and ids for another seed', () => {
    const other = batchesOf(2).flat();
    expect(other.map((message) => message.messageId)).not.toEqual(messages.map((message) => message.messageId));
    const ids = new Set(messages.map((message) => message.messageId));
    expect(other.some((message) => ids.has(message.messageId))).toBe(false);
    const names = (list: DemoMessage[]) =>
      list.filter((message) => message.type === 'identify').map((message) => message.traits?.name);
    expect(names(other)).not.toEqual(names(messages));
  });

  it('keeps message ids when only now moves, so sending again later adds no message', () => {
    const later = [...generateDemo({ customers: 120, months: 6, seed: 1, now: now + 3 * dayMs })].flat();
    const ids = new Set(messages.map((message) => message.messageId));
    const kept = later.filter((message) => ids.has(message.messageId)).length;
    expect(kept / later.length).toBeGreaterThan(0.97);
  });

  it('sends only messages the ingest schema accepts, with unique ids, none dated after now', () => {
    for (const message of messages) {
      const parsed = parseMessage(message);
      expect(parsed.ok ? [] : parsed.issues).toEqual([]);
      expect(Date.parse(message.timestamp)).toBeLessThanOrEqual(now);
    }
    expect(new Set(messages.map((message) => message.messageId)).size).toBe(messages.length);
    const oldest = Math.min(...messages.map((message) => Date.parse(message.timestamp)));
    expect(oldest).toBeGreaterThanOrEqual(Date.parse('2024-12-15T00:00:00.000Z'));
  });

  it('fills batches within the size and count limits of /v1/batch', () => {
    expect(batches.length).toBeGreaterThan(1);
    for (const batch of batches) {
      expect(batch.length).toBeLessThanOrEqual(maxBatchMessages);
      expect(Buffer.byteLength(JSON.stringify({ batch }))).toBeLessThanOrEqual(maxBatchBytes);
    }
  });

  it('gives every customer a +84 phone or an email, and joins some across several devices', () => {
    const customers = customersOf(messages);
    expect(customers).toHaveLength(120);
    for (const identifiers of customers) {
      expect(identifiers.some((id) => id.startsWith('phone:+84') || id.startsWith('email:'))).toBe(true);
    }
    const devices = customers.map((identifiers) => identifiers.filter((id) => id.startsWith('anonymous_id:')).length);
    const merged = devices.filter((count) => count >= 2).length / customers.length;
    expect(merged).toBeGreaterThanOrEqual(0.08);
    expect(merged).toBeLessThanOrEqual(0.25);
  });

  it('names customers in Vietnamese, with diacritics', () => {
    const names = messages
      .filter((message) => message.type === 'identify' && message.traits?.name)
      .map((message) => String(message.traits?.name));
    expect(names.length).toBeGreaterThan(80);
    const accented = names.filter((name) =>
      /[àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ]/i.test(name),
    );
    expect(accented.length / names.length).toBeGreaterThan(0.8);
  });

  it('covers the tracking plan on every channel, with VND orders in range', () => {
    const events = new Set(messages.map((message) => message.event ?? message.type));
    for (const name of [
      'page',
      'screen',
      'identify',
      'Product Viewed',
      'Product Added',
      'Checkout Started',
      'Order Completed',
      'Ticket Opened',
      'Ticket Replied',
      'Ticket Resolved',
      'Survey Responded',
      'Email Opened',
      'Email Link Clicked',
    ]) {
      expect(events).toContain(name);
    }
    const channels = new Set(messages.map((message) => message.properties?.channel).filter(Boolean));
    for (const channel of ['web', 'app', 'email', 'sms', 'phone', 'social', 'chat', 'store'])
      expect(channels).toContain(channel);
    const orders = messages.filter((message) => message.event === 'Order Completed');
    for (const order of orders) {
      expect(order.properties).toMatchObject({ currency: 'VND', order_id: expect.any(String) });
      expect(order.properties?.revenue).toBeGreaterThanOrEqual(89_000);
      expect(order.properties?.revenue).toBeLessThanOrEqual(15_000_000);
      expect((order.properties?.products as unknown[]).length).toBeGreaterThan(0);
    }
  });

  it('spreads customers over lifecycle stages at now: new, active, silent for 30 to 90 days, and churned', () => {
    const customers = customersOf(messages);
    const seen = new Map<string, { first: number; last: number }>();
    const customerOf = new Map(
      customers.flatMap((identifiers, index) => identifiers.map((id) => [id, index] as const)),
    );
    for (const message of messages) {
      const key = String(customerOf.get(identifiersOf(message)[0] as string));
      const at = Date.parse(message.timestamp);
      const span = seen.get(key) ?? { first: at, last: at };
      seen.set(key, { first: Math.min(span.first, at), last: Math.max(span.last, at) });
    }
    const stages = { new: 0, active: 0, dormant: 0, churned: 0 };
    for (const { first, last } of seen.values()) {
      if (now - first < 30 * dayMs) stages.new += 1;
      else if (now - last < 30 * dayMs) stages.active += 1;
      else if (now - last < 90 * dayMs) stages.dormant += 1;
      else stages.churned += 1;
    }
    for (const count of Object.values(stages)) expect(count).toBeGreaterThan(5);
  });

  it('leaves some tickets unanswered past 24 hours and some still open', () => {
    const opened = new Map(
      messages
        .filter((message) => message.event === 'Ticket Opened')
        .map((message) => [message.properties?.ticket_id, Date.parse(message.timestamp)]),
    );
    const replied = new Map(
      messages
        .filter((message) => message.event === 'Ticket Replied')
        .map((message) => [message.properties?.ticket_id, Date.parse(message.timestamp)]),
    );
    const resolved = new Set(
      messages.filter((message) => message.event === 'Ticket Resolved').map((message) => message.properties?.ticket_id),
    );
    const late = [...replied].filter(([ticket, at]) => at - (opened.get(ticket) as number) > dayMs);
    expect(late.length).toBeGreaterThan(0);
    expect([...opened.keys()].filter((ticket) => !resolved.has(ticket)).length).toBeGreaterThan(0);
  });

  it('refuses options it cannot honour', () => {
    expect(() => generateDemo({ customers: 0, months: 6, seed: 1, now }).next()).toThrow(/customers/);
    expect(() => generateDemo({ customers: 10, months: 0.5, seed: 1, now }).next()).toThrow(/months/);
  });
});
