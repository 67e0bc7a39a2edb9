// Calendar arithmetic in a time zone for the reference computations: wall clocks from Intl, periods by date strings.

export type Period = 'day' | 'week' | 'month';

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The zone's wall clock at the instant, as `YYYY-MM-DDTHH:MM:SS.mmm` (so that text order is time order). */
export function wallClock(epochMs: number, timeZone: string): string {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      fractionalSecondDigits: 3,
    });
    formatters.set(timeZone, formatter);
  }
  const part: Record<string, string> = {};
  for (const { type, value } of formatter.formatToParts(new Date(epochMs))) part[type] = value;
  return `${part.year}-${part.month}-${part.day}T${part.hour}:${part.minute}:${part.second}.${part.fractionalSecond}`;
}

/** `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM[:SS[.mmm]]` padded to the full wall-clock form. */
function fullWallClock(text: string): string {
  const [date, time = ''] = text.split('T') as [string, string?];
  const [hours = '00', minutes = '00', seconds = '00.000'] = time ? time.split(':') : [];
  const [whole, fraction = ''] = seconds.split('.') as [string, string?];
  return `${date}T${hours}:${minutes}:${whole}.${fraction.padEnd(3, '0')}`;
}

/**
 * The first instant at which the zone's clocks show the wall-clock time or later, found by bisection: no offset
 * arithmetic at all, only "what does the clock show then".
 */
export function instantOf(text: string, timeZone: string): number {
  const wanted = fullWallClock(text);
  const naive = Date.parse(`${wanted}Z`);
  let low = naive - 15 * 3_600_000;
  let high = naive + 15 * 3_600_000;
  while (low < high) {
    const middle = Math.floor((low + high) / 2);
    if (wallClock(middle, timeZone) >= wanted) high = middle;
    else low = middle + 1;
  }
  return low;
}

const dateOf = (day: string) => new Date(`${day}T00:00:00.000Z`);
const dayText = (date: Date) => date.toISOString().slice(0, 10);

/** The first day (`YYYY-MM-DD`, in the zone) of the period holding the instant; weeks start on Monday. */
export function periodOf(epochMs: number, timeZone: string, period: Period): string {
  const day = wallClock(epochMs, timeZone).slice(0, 10);
  if (period === 'day') return day;
  if (period === 'month') return `${day.slice(0, 7)}-01`;
  const date = dateOf(day);
  const sinceMonday = (date.getUTCDay() + 6) % 7;
  date.setUTCDate(date.getUTCDate() - sinceMonday);
  return dayText(date);
}

/** The first day of the period `steps` periods after the one starting on `day`. */
export function shiftPeriod(day: string, period: Period, steps: number): string {
  const date = dateOf(day);
  if (period === 'day') date.setUTCDate(date.getUTCDate() + steps);
  else if (period === 'week') date.setUTCDate(date.getUTCDate() + 7 * steps);
  else date.setUTCMonth(date.getUTCMonth() + steps);
  return dayText(date);
}

/** The periods whose first moment (midnight in the zone) is in `[fromMs, toMs)`, oldest first. */
export function periodsStartingIn(fromMs: number, toMs: number, timeZone: string, period: Period): string[] {
  const periods: string[] = [];
  for (
    let day = periodOf(fromMs, timeZone, period);
    instantOf(day, timeZone) < toMs;
    day = shiftPeriod(day, period, 1)
  ) {
    if (instantOf(day, timeZone) >= fromMs) periods.push(day);
  }
  return periods;
}
