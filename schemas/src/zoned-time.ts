// Local wall-clock times in an IANA time zone, turned into instants with the platform's own zone data (Intl).

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterOf(timeZone: string): Intl.DateTimeFormat {
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
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** Whether the runtime's zone data knows the name (IANA names and their aliases; Intl ignores case). */
export function isKnownTimeZone(timeZone: string): boolean {
  try {
    formatterOf(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** How far the zone's wall clock is ahead of UTC at the instant, in milliseconds (whole seconds). */
function offsetAt(timeZone: string, epochMs: number): number {
  const seconds = Math.floor(epochMs / 1000) * 1000;
  const parts: Record<string, number> = {};
  for (const part of formatterOf(timeZone).formatToParts(new Date(seconds))) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  const wall = Date.UTC(
    parts.year ?? 1970,
    (parts.month ?? 1) - 1,
    parts.day ?? 1,
    parts.hour ?? 0,
    parts.minute ?? 0,
    parts.second ?? 0,
  );
  return wall - seconds;
}

export interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  millisecond: number;
}

/**
 * The instant the zone's clocks showed the wall-clock time. A time shown twice (clocks set back) is its first
 * occurrence; a time never shown (clocks set forward) moves forward by the length of the gap, as JavaScript's
 * Temporal does by default.
 */
export function zonedInstant(wall: WallClock, timeZone: string): number {
  const asUtc = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second, wall.millisecond);
  // A day either side brackets any change of offset near the time: no zone changes twice within two days.
  const offsetBefore = offsetAt(timeZone, asUtc - 86_400_000);
  const offsetAfter = offsetAt(timeZone, asUtc + 86_400_000);
  const candidates = [asUtc - offsetBefore, asUtc - offsetAfter].filter(
    (instant, index) => offsetAt(timeZone, instant) === (index === 0 ? offsetBefore : offsetAfter),
  );
  return candidates.length > 0 ? Math.min(...candidates) : asUtc - offsetBefore;
}
