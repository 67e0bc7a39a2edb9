// Customer care touchpoints: tickets with replies and resolutions (some late, some still open), calls, chats, NPS and CSAT.
import { agents, ticketTopics, type TicketType } from './catalog';
import { later, localTime, timeBetween, type Journey } from './journey';
import { track } from './messages';
import { dayMs, hourMs, normal, type Reach } from './persona';

const ticketChannels: Record<Reach, Array<{ value: string; weight: number }>> = {
  member: [
    { value: 'phone', weight: 25 },
    { value: 'chat', weight: 25 },
    { value: 'email', weight: 20 },
    { value: 'social', weight: 15 },
    { value: 'web', weight: 10 },
    { value: 'app', weight: 5 },
  ],
  store: [
    { value: 'phone', weight: 6 },
    { value: 'store', weight: 4 },
  ],
  social: [
    { value: 'social', weight: 7 },
    { value: 'chat', weight: 3 },
  ],
  newsletter: [{ value: 'email', weight: 1 }],
};

/**
 * Minutes to the first reply: log-normal around 40 minutes (most within the hour, many within the working day), and
 * about one ticket in eleven waits past the 24-hour goal (a weekend, a backlog).
 */
function minutesToReply(journey: Journey): number {
  const { faker } = journey;
  if (faker.datatype.boolean(0.09)) return 24 * 60 + faker.number.float({ min: 10, max: 48 * 60 });
  return Math.min(20 * 60, Math.max(2, Math.exp(normal(faker, Math.log(40), 1.3))));
}

/** One ticket: opened on a channel (after a chat or a call there), replied to, mostly resolved, sometimes rated. */
function ticket(journey: Journey, openedAt: number): void {
  const { faker, persona, office } = journey;
  const channel = faker.helpers.weightedArrayElement(ticketChannels[persona.reach]);
  const type = faker.helpers.weightedArrayElement<TicketType>([
    { value: 'question', weight: 5 },
    { value: 'request', weight: 3 },
    { value: 'complaint', weight: 2 },
  ]);
  const ticketId = journey.nextId('TK');
  const agent = faker.helpers.arrayElement(agents);
  const subject = faker.helpers.arrayElement(ticketTopics[type]);
  const lastOrder = [...journey.orders].reverse().find((order) => order.at < openedAt);
  if (channel === 'chat') {
    journey.add(
      openedAt - 60_000,
      track(office, 'Chat Started', { chat_id: journey.nextId('CH'), topic: subject, channel }),
    );
  }
  journey.add(
    openedAt,
    track(office, 'Ticket Opened', {
      ticket_id: ticketId,
      type,
      subject,
      priority: type === 'complaint' ? 'high' : 'normal',
      ...(lastOrder ? { order_id: lastOrder.orderId } : {}),
      channel,
    }),
  );
  if (channel === 'phone') {
    const duration = faker.number.int({ min: 60, max: 900 });
    journey.add(
      openedAt + duration * 1000,
      track(office, 'Call Completed', {
        call_id: journey.nextId('CG'),
        direction: 'inbound',
        duration_seconds: duration,
        ticket_id: ticketId,
        agent,
        channel,
      }),
    );
  }
  const replyMinutes = minutesToReply(journey);
  const repliedAt = openedAt + replyMinutes * 60_000;
  journey.add(repliedAt, track(office, 'Ticket Replied', { ticket_id: ticketId, agent, channel }));
  if (!faker.datatype.boolean(0.9)) return;
  const resolvedAt = repliedAt + Math.exp(normal(faker, Math.log(type === 'question' ? 2 : 12), 1.1)) * hourMs;
  journey.add(resolvedAt, track(office, 'Ticket Resolved', { ticket_id: ticketId, agent, channel }));
  if (!faker.datatype.boolean(0.55)) return;
  // Slow replies and complaints rate lower.
  const penalty = (replyMinutes > 24 * 60 ? 1.5 : replyMinutes > 240 ? 0.7 : 0) + (type === 'complaint' ? 0.8 : 0);
  const score = Math.round(Math.min(5, Math.max(1, normal(faker, 4.5 - penalty, 0.8))));
  journey.add(
    later(faker, resolvedAt, 600, 20 * 3600),
    track(office, 'Survey Responded', { survey: 'csat', score, ticket_id: ticketId, channel }),
  );
}

/** Zero to three tickets within the customer's active time; one often in their latest days, so a few are still open. */
export function careHistory(journey: Journey): void {
  const { faker, persona, latest } = journey;
  const count = faker.helpers.weightedArrayElement([
    { value: 0, weight: 66 },
    { value: 1, weight: 22 },
    { value: 2, weight: 9 },
    { value: 3, weight: 3 },
  ]);
  for (let index = 0; index < count; index += 1) {
    const recent = index === 0 && persona.lifecycle !== 'churned' && faker.datatype.boolean(0.25);
    const around = recent ? persona.lastSeen : timeBetween(faker, persona.firstSeen, persona.lastSeen);
    ticket(journey, localTime(faker, around, latest));
  }
}

/** Net promoter scores: about 45% promoters, 30% passives, 25% detractors. */
const npsScores = [
  [10, 22],
  [9, 23],
  [8, 17],
  [7, 13],
  [6, 7],
  [5, 6],
  [4, 4],
  [3, 3],
  [2, 2],
  [1, 1],
  [0, 2],
].map(([value, weight]) => ({ value: value as number, weight: weight as number }));

/** Buyers are sometimes asked how likely they are to recommend the shop, some days after an order. */
export function npsSurveys(journey: Journey): void {
  const { faker, persona } = journey;
  for (const order of journey.orders) {
    if (!faker.datatype.boolean(0.2)) continue;
    const at = order.at + timeBetween(faker, 2 * dayMs, 7 * dayMs);
    // A survey answered after the customer's last visit would move it: they answer while still around.
    if (at > persona.lastSeen) continue;
    const channel =
      persona.reach === 'member'
        ? faker.helpers.arrayElement(['email', 'app', 'sms'])
        : persona.email
          ? 'email'
          : 'sms';
    journey.add(
      at,
      track(journey.office, 'Survey Responded', {
        survey: 'nps',
        score: faker.helpers.weightedArrayElement(npsScores),
        order_id: order.orderId,
        channel,
      }),
    );
  }
}
