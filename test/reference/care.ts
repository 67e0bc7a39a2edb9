// Customer-care answers recomputed from the generated truth with plain loops: tickets per period, survey scores, open tickets.
import type { OpenTicketsResponse, SurveysResponse, TicketSeriesResponse } from '@cdp/schemas';
import { bounds, divide, inScope, numberOr, ticketIdOf, type TruthMessage, type Window } from './analytics';
import { instantOf, periodsStartingIn, shiftPeriod, type Period } from './calendar';

const isTrack = (message: TruthMessage, event: string) => message.type === 'track' && message.event === event;

export function ticketSeries(all: TruthMessage[], window: Window & { period: Period }): TicketSeriesResponse {
  const { fromMs, toMs } = bounds(window);
  const mine = inScope(all, window);
  return {
    period: window.period,
    series: periodsStartingIn(fromMs, toMs, window.tz, window.period).map((period) => {
      const start = instantOf(period, window.tz);
      const end = instantOf(shiftPeriod(period, window.period, 1), window.tz);
      const inPeriod = mine.filter((message) => message.at >= start && message.at < end);
      const count = (event: string) => inPeriod.filter((message) => isTrack(message, event)).length;
      const complaints = inPeriod.filter(
        (message) => isTrack(message, 'Ticket Opened') && message.properties.type === 'complaint',
      ).length;
      return {
        period,
        opened: count('Ticket Opened'),
        replied: count('Ticket Replied'),
        resolved: count('Ticket Resolved'),
        complaints,
      };
    }),
  };
}

export function surveys(all: TruthMessage[], window: Window): SurveysResponse {
  const { fromMs, toMs } = bounds(window);
  const scores = (survey: string, low: number, high: number) =>
    inScope(all, window)
      .filter(
        (message) =>
          isTrack(message, 'Survey Responded') &&
          message.properties.survey === survey &&
          message.at >= fromMs &&
          message.at < toMs,
      )
      .map((message) => numberOr(message.properties.score, null))
      .filter((score): score is number => score !== null && score >= low && score <= high);
  const answer = (survey: string, low: number, high: number, score: (values: number[]) => number | null) => {
    const values = scores(survey, low, high);
    return {
      responses: values.length,
      score: score(values),
      distribution: Array.from({ length: high - low + 1 }, (_, index) => ({
        score: low + index,
        responses: values.filter((value) => Math.floor(value) === low + index).length,
      })),
    };
  };
  return {
    nps: answer('nps', 0, 10, (values) =>
      divide(
        100 * (values.filter((value) => value >= 9).length - values.filter((value) => value <= 6).length),
        values.length,
      ),
    ),
    csat: answer('csat', 1, 5, (values) => divide(100 * values.filter((value) => value >= 4).length, values.length)),
  };
}

/** Open tickets at `now` as the API lists them, without ageHours (it depends on when the API was asked). */
export function openTickets(
  all: TruthMessage[],
  scope: Pick<Window, 'segment' | 'channel'>,
  options: { slaHours: number; limit: number; now: number; profileOf: (customer: number) => string },
): Omit<OpenTicketsResponse, 'tickets'> & { tickets: Array<Omit<OpenTicketsResponse['tickets'][number], 'ageHours'>> } {
  const later = (event: string, ticketId: string, openedAt: number) =>
    all
      .filter((message) => isTrack(message, event) && ticketIdOf(message) === ticketId && message.at >= openedAt)
      .map((message) => message.at);
  const slaMs = options.slaHours * 3_600_000;
  const open = inScope(all, { from: '', to: '', tz: 'UTC', ...scope })
    .filter((message) => isTrack(message, 'Ticket Opened') && ticketIdOf(message) !== '')
    .filter((ticket) => later('Ticket Resolved', ticketIdOf(ticket), ticket.at).length === 0)
    .map((ticket) => {
      const replies = later('Ticket Replied', ticketIdOf(ticket), ticket.at);
      const firstReply = replies.length === 0 ? null : Math.min(...replies);
      return { ticket, firstReply, breached: (firstReply ?? options.now) - ticket.at > slaMs };
    })
    .sort((a, b) => a.ticket.at - b.ticket.at);
  return {
    slaHours: options.slaHours,
    total: open.length,
    breached: open.filter((entry) => entry.breached).length,
    tickets: open.slice(0, options.limit).map(({ ticket, firstReply, breached }) => ({
      ticketId: ticketIdOf(ticket),
      profileId: options.profileOf(ticket.customer),
      channel: ticket.channel,
      type: typeof ticket.properties.type === 'string' ? ticket.properties.type : '',
      openedAt: new Date(ticket.at).toISOString(),
      firstReplyAt: firstReply === null ? null : new Date(firstReply).toISOString(),
      breached,
    })),
  };
}
