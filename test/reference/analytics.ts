// Every analytics metric recomputed from the generated truth with plain loops and no ClickHouse: the tests' second opinion.
import type {
  KpiSeriesResponse,
  KpisResponse,
  KpiValues,
  LifecycleResponse,
  RepeatPurchaseResponse,
  RetentionResponse,
} from '@cdp/schemas';
import type { GeneratedHistory } from '../generators/history';
import { instantOf, periodOf, periodsStartingIn, shiftPeriod, type Period } from './calendar';

/** One accepted message, once, on the customer it belongs to. */
export interface TruthMessage {
  customer: number;
  at: number;
  type: string;
  event: string;
  channel: string;
  properties: Record<string, unknown>;
}

export interface Window {
  from: string;
  to: string;
  tz: string;
  /** Customers (indexes) of the segment, when the request names one. */
  segment?: ReadonlySet<number>;
  channel?: string;
}

const knownChannels = new Set(['web', 'app', 'email', 'sms', 'phone', 'social', 'chat', 'store']);

/** The first copy of every messageId; the channel as ingest sets it for a server-side message without SDK context. */
export function truthMessages(history: Pick<GeneratedHistory, 'messages' | 'customerOf'>): TruthMessage[] {
  const seen = new Set<string>();
  const truth: TruthMessage[] = [];
  history.messages.forEach((message, position) => {
    if (seen.has(message.messageId)) return;
    seen.add(message.messageId);
    const properties = (message.properties ?? {}) as Record<string, unknown>;
    const stated = typeof properties.channel === 'string' ? properties.channel.toLowerCase() : '';
    truth.push({
      customer: history.customerOf[position] as number,
      at: Date.parse(message.timestamp),
      type: message.type,
      event: message.type === 'track' ? (message.event as string) : '',
      channel: knownChannels.has(stated) ? stated : 'unknown',
      properties,
    });
  });
  return truth;
}

export const isPurchase = (message: TruthMessage) => message.type === 'track' && message.event === 'Order Completed';
export const numberOr = (value: unknown, fallback: number | null) => (typeof value === 'number' ? value : fallback);
const revenueOf = (message: TruthMessage) =>
  numberOr(message.properties.revenue, numberOr(message.properties.total, 0)) as number;
export const ticketIdOf = (message: TruthMessage) => {
  const id = message.properties.ticket_id;
  return typeof id === 'string' ? id : typeof id === 'number' ? String(id) : '';
};
export const divide = (part: number, whole: number) => (whole === 0 ? null : part / whole);

export function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const upper = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[upper] as number)
    : ((sorted[upper - 1] as number) + (sorted[upper] as number)) / 2;
}

export function inScope(messages: TruthMessage[], window: Window): TruthMessage[] {
  return messages.filter(
    (message) =>
      (!window.channel || message.channel === window.channel) &&
      (!window.segment || window.segment.has(message.customer)),
  );
}

function byCustomer(messages: TruthMessage[]): Map<number, TruthMessage[]> {
  const groups = new Map<number, TruthMessage[]>();
  for (const message of messages) groups.set(message.customer, [...(groups.get(message.customer) ?? []), message]);
  return groups;
}

export function bounds(window: Window): { fromMs: number; toMs: number } {
  return { fromMs: instantOf(window.from, window.tz), toMs: instantOf(window.to, window.tz) };
}

/** The KPIs of a window; churn against the window of equal length before it, or from `previousFrom` when given. */
function kpiValues(all: TruthMessage[], window: Window, previousFrom?: string): KpiValues {
  const { fromMs, toMs } = bounds(window);
  const previousFromMs = previousFrom === undefined ? fromMs - (toMs - fromMs) : instantOf(previousFrom, window.tz);
  const inWindow = (at: number) => at >= fromMs && at < toMs;
  const mine = inScope(all, window);
  let active = 0,
    fresh = 0,
    before = 0,
    churned = 0,
    purchasers = 0;
  for (const messages of byCustomer(mine).values()) {
    const first = Math.min(...messages.map((message) => message.at));
    const now = messages.some((message) => inWindow(message.at));
    const then = messages.some((message) => message.at >= previousFromMs && message.at < fromMs);
    if (now) active += 1;
    if (inWindow(first)) fresh += 1;
    if (then) before += 1;
    if (then && !now) churned += 1;
    if (messages.some((message) => isPurchase(message) && inWindow(message.at))) purchasers += 1;
  }
  const current = mine.filter((message) => inWindow(message.at));
  const orders = current.filter(isPurchase);
  const revenue = orders.reduce((sum, order) => sum + revenueOf(order), 0);
  const scores = (survey: string, low: number, high: number) =>
    current
      .filter(
        (message) =>
          message.type === 'track' && message.event === 'Survey Responded' && message.properties.survey === survey,
      )
      .map((message) => numberOr(message.properties.score, null))
      .filter((score): score is number => score !== null && score >= low && score <= high);
  const nps = scores('nps', 0, 10);
  const csat = scores('csat', 1, 5);
  const tickets = current.filter((message) => message.type === 'track' && message.event === 'Ticket Opened');
  const followUps = (event: string, ticketId: string, openedAt: number) =>
    all
      .filter(
        (message) =>
          message.type === 'track' &&
          message.event === event &&
          ticketId !== '' &&
          ticketIdOf(message) === ticketId &&
          message.at >= openedAt,
      )
      .map((message) => message.at);
  const firstAfter = (event: string, scale: number) =>
    tickets.flatMap((ticket) => {
      const times = followUps(event, ticketIdOf(ticket), ticket.at);
      return times.length === 0 ? [] : [(Math.min(...times) - ticket.at) / scale];
    });
  return {
    activeCustomers: active,
    newCustomers: fresh,
    orders: orders.length,
    revenue,
    aov: divide(revenue, orders.length),
    purchaseFrequency: divide(orders.length, purchasers),
    churnRate: divide(churned, before),
    nps: divide(
      100 * (nps.filter((score) => score >= 9).length - nps.filter((score) => score <= 6).length),
      nps.length,
    ),
    npsResponses: nps.length,
    csat: divide(100 * csat.filter((score) => score >= 4).length, csat.length),
    csatResponses: csat.length,
    tickets: tickets.length,
    complaints: tickets.filter((ticket) => ticket.properties.type === 'complaint').length,
    medianFirstResponseMinutes: median(firstAfter('Ticket Replied', 60_000)),
    medianResolutionHours: median(firstAfter('Ticket Resolved', 3_600_000)),
  };
}

/** Totals, and per channel with a message in the window exactly what the same request with that channel gives. */
export function kpis(all: TruthMessage[], window: Window): KpisResponse {
  const { fromMs, toMs } = bounds(window);
  const channels = [
    ...new Set(
      inScope(all, window)
        .filter((message) => message.at >= fromMs && message.at < toMs)
        .map((message) => message.channel),
    ),
  ].sort();
  return {
    totals: kpiValues(all, window),
    byChannel: channels.map((channel) => ({ channel, ...kpiValues(all, { ...window, channel }) })),
  };
}

/** Each period starting in the window, whole, measured as its own window; churn against the period before it. */
export function kpiSeries(all: TruthMessage[], window: Window & { period: Period }): KpiSeriesResponse {
  const { fromMs, toMs } = bounds(window);
  return {
    period: window.period,
    series: periodsStartingIn(fromMs, toMs, window.tz, window.period).map((period) => ({
      period,
      ...kpiValues(
        all,
        { ...window, from: period, to: shiftPeriod(period, window.period, 1) },
        shiftPeriod(period, window.period, -1),
      ),
    })),
  };
}

export function retention(
  all: TruthMessage[],
  window: Window & { cohort: 'first_purchase' | 'first_seen'; period: Period; periods: number },
): RetentionResponse {
  const { fromMs, toMs } = bounds(window);
  const qualifying = inScope(all, window).filter((message) => window.cohort === 'first_seen' || isPurchase(message));
  const profiles = [...byCustomer(qualifying).values()].map((messages) => ({
    cohort: periodOf(Math.min(...messages.map((message) => message.at)), window.tz, window.period),
    active: new Set(messages.map((message) => periodOf(message.at, window.tz, window.period))),
  }));
  return {
    cohorts: periodsStartingIn(fromMs, toMs, window.tz, window.period).map((cohort) => {
      const members = profiles.filter((profile) => profile.cohort === cohort);
      const retained = Array.from(
        { length: window.periods },
        (_, k) => members.filter((profile) => profile.active.has(shiftPeriod(cohort, window.period, k))).length,
      );
      return { cohort, size: members.length, retained };
    }),
  };
}

export function lifecycle(all: TruthMessage[], window: Window & { period: Period }): LifecycleResponse {
  const { fromMs, toMs } = bounds(window);
  const profiles = [...byCustomer(inScope(all, window)).values()].map((messages) => ({
    first: periodOf(Math.min(...messages.map((message) => message.at)), window.tz, window.period),
    active: new Set(messages.map((message) => periodOf(message.at, window.tz, window.period))),
  }));
  return {
    periods: periodsStartingIn(fromMs, toMs, window.tz, window.period).map((period) => {
      const previous = shiftPeriod(period, window.period, -1);
      const counts = { period, new: 0, returning: 0, resurrecting: 0, dormant: 0 };
      for (const profile of profiles) {
        if (profile.active.has(period)) {
          if (profile.first === period) counts.new += 1;
          else if (profile.active.has(previous)) counts.returning += 1;
          else counts.resurrecting += 1;
        } else if (profile.active.has(previous)) counts.dormant += 1;
      }
      return counts;
    }),
  };
}

export function repeatPurchase(all: TruthMessage[], window: Window): RepeatPurchaseResponse {
  const { fromMs, toMs } = bounds(window);
  const purchases = inScope(all, window).filter(
    (message) => isPurchase(message) && message.at >= fromMs && message.at < toMs,
  );
  const customers = [...byCustomer(purchases).values()].map((orders) =>
    orders.map((order) => order.at).sort((a, b) => a - b),
  );
  const orders = purchases.length;
  const repeat = customers.filter((times) => times.length >= 2);
  const days = (earlier: number, later: number) => (later - earlier) / 86_400_000;
  const count = (test: (n: number) => boolean) => customers.filter((times) => test(times.length)).length;
  return {
    customers: customers.length,
    repeatCustomers: repeat.length,
    orders,
    repeatRate: divide(repeat.length, customers.length),
    ordersPerCustomer: divide(orders, customers.length),
    distribution: {
      '1': count((n) => n === 1),
      '2': count((n) => n === 2),
      '3': count((n) => n === 3),
      '4': count((n) => n === 4),
      '5+': count((n) => n >= 5),
    },
    medianDaysToSecondPurchase: median(repeat.map((times) => days(times[0] as number, times[1] as number))),
    medianDaysBetweenPurchases: median(
      repeat.flatMap((times) => times.slice(1).map((at, index) => days(times[index] as number, at))),
    ),
  };
}
