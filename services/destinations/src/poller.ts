// The timer poller: due timers, a page at a time, become deliveries (or are cancelled); anniversaries are swept in.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { findProfileIds, identitiesOfMany, storedIdsOfMany, traitValuesPage, type ProfileRefType } from '@cdp/profiles';
import type { ClickHouseClient, Metrics } from '@cdp/runtime';
import type { AnniversaryTrigger, FollowUpTrigger } from '@cdp/schemas';
import type { Destination } from './definitions';
import { sameShare, type DeliveryStore, type EventIdentifier, type Share } from './deliveries';
import { anniversaryTimer, anniversaryTimerId, ruleKeyOf, timerDeliveryId, type Timer } from './schedule';
import type { TimerCursor, TimerStore } from './timers';
import type { NewDelivery } from './triggers';

export interface TimerPollerDeps {
  client: ClickHouseClient;
  timers: TimerStore;
  deliveries: DeliveryStore;
  logger: Logger;
  metrics: Metrics;
  /** Every live destination, active and paused (a paused one's deliveries are written and wait). */
  destinations(): Promise<Destination[]>;
  /** When every event received by then has been read by the trigger consumer (its awaited events written). */
  caughtUpThrough(): Promise<number>;
  enqueued(destinationIds: Set<string>): void;
  /** This instance's share of the due timers, asked before each page: another instance fires the rest. */
  share(): Share;
  pollMs: number;
  anniversarySweepMs: number;
}

export interface TimerPoller {
  close(): Promise<void>;
}

/** Timers read at a time: memory stays flat however many are pending. */
const pageSize = 500;
/** How long a due follow-up waits for the resolver to place its event's profile before it fires without it. */
const unresolvedGraceMs = 10 * 60_000;

const parseKey = (key: string): EventIdentifier => {
  const colon = key.indexOf(':');
  return { type: key.slice(0, colon) as EventIdentifier['type'], value: key.slice(colon + 1) };
};

export function startTimerPoller(deps: TimerPollerDeps): TimerPoller {
  const logger = deps.logger.child({ component: 'destination-timers' });
  const { client } = deps;
  const outcomes = deps.metrics.counter(
    'cdp_destination_timers_total',
    'Due timers settled by kind (follow_up, anniversary) and outcome (fired, cancelled)',
    ['kind', 'outcome'],
  );

  /**
   * The survivors a page's timers resolve to now (merges followed), null where none does yet: a timer's profile id if
   * it has one, else the first of its identifiers that resolves. Read for the whole page at once (`findProfileIds`:
   * one read per kind of reference, one for their survivors).
   */
  async function profilesOf(timers: Timer[]): Promise<Array<string | null>> {
    const refsOf = (timer: Timer): Array<{ type: ProfileRefType; value: string }> =>
      timer.profileId ? [{ type: 'profile_id' as const, value: timer.profileId }] : timer.identifiers.map(parseKey);
    const found = await findProfileIds(client, timers.flatMap(refsOf));
    let next = 0;
    return timers.map((timer) => {
      const mine = found.slice(next, (next += refsOf(timer).length));
      return mine.find((profileId) => profileId !== null) ?? null;
    });
  }

  /** The rule that scheduled the timer, while its destination still has it. */
  const ruleOf = (timer: Timer, destination: Destination | undefined) =>
    destination?.triggers.find((trigger) => ruleKeyOf(trigger) === timer.rule);

  /**
   * Which of a page's follow-ups an awaited event cancels. The event may carry any identifier of the customer: a
   * timer's keys are its own identifiers and, once resolved, every identifier of its profile (`storedIdsOfMany`,
   * `identitiesOfMany` of `@cdp/profiles`). Three reads for the whole page, whose awaited events all come back: a
   * frequent awaited event over a long delay makes that read large.
   */
  async function arrivedAmong(
    page: Timer[],
    profiles: Array<string | null>,
    destinations: Map<string, Destination>,
  ): Promise<Set<string>> {
    const waiting = page.flatMap((timer, index) => {
      const rule = ruleOf(timer, destinations.get(timer.destinationId));
      const awaits = timer.kind === 'follow_up' && rule?.kind === 'followUp' && rule.unless !== undefined;
      return awaits ? [{ timer, profileId: profiles[index] ?? null }] : [];
    });
    if (waiting.length === 0) return new Set();
    const survivors = [...new Set(waiting.flatMap(({ profileId }) => (profileId ? [profileId] : [])))];
    const identities = await identitiesOfMany(client, await storedIdsOfMany(client, survivors));
    const keys = waiting.map(({ timer, profileId }) => [
      ...new Set([
        ...timer.identifiers,
        ...(identities.get(profileId ?? '') ?? []).map(({ type, value }) => `${type}:${value}`),
      ]),
    ]);
    return deps.timers.awaitedAmong(
      waiting.map(({ timer }) => timer),
      keys,
    );
  }

  /**
   * What becomes of a due timer: a delivery, a cancellation with its reason, or nothing yet (it stays pending).
   * `arrived` holds the follow-ups an awaited event cancels (`arrivedAmong`).
   */
  function decide(
    timer: Timer,
    profileId: string | null,
    destination: Destination | undefined,
    arrived: Set<string>,
    now: number,
  ): { fire: NewDelivery } | { cancel: string } | null {
    const rule = ruleOf(timer, destination);
    if (!destination || !rule || !timer.trigger)
      return { cancel: 'the destination or its trigger was changed or removed' };
    if (!profileId && timer.kind === 'anniversary') return { cancel: 'the profile is gone' };
    if (!profileId && now - timer.dueAt < unresolvedGraceMs) return null;
    if (arrived.has(timer.timerId)) return { cancel: `${(rule as FollowUpTrigger).unless!.event} arrived in time` };
    return {
      fire: {
        deliveryId: timerDeliveryId(timer),
        destinationId: timer.destinationId,
        profileId: profileId ?? '',
        trigger: timer.trigger,
      },
    };
  }

  /** Every due timer of a kind, page by page; a timer left pending is passed over until the next poll. */
  async function fireDue(kind: 'follow_up' | 'anniversary', cutoff: number): Promise<void> {
    let after: TimerCursor | null = null;
    for (;;) {
      const share = deps.share();
      const page = await deps.timers.duePage(kind, cutoff, after, pageSize, share);
      if (page.length === 0) return;
      const destinations = new Map((await deps.destinations()).map((destination) => [destination.id, destination]));
      const now = Date.now();
      const profiles = await profilesOf(page);
      const arrived = await arrivedAmong(page, profiles, destinations);
      const fired: NewDelivery[] = [];
      const settled: Timer[] = [];
      for (const [index, timer] of page.entries()) {
        const decision = decide(timer, profiles[index] ?? null, destinations.get(timer.destinationId), arrived, now);
        if (!decision) continue;
        if ('fire' in decision) fired.push(decision.fire);
        settled.push(
          'fire' in decision
            ? { ...timer, status: 'fired', reason: decision.fire.deliveryId }
            : { ...timer, status: 'cancelled', reason: decision.cancel },
        );
      }
      // Another instance may fire these since a rebalance; what is still this instance's is read again next poll.
      if (!sameShare(share, deps.share())) return;
      // The deliveries first: a crash before the timers are settled fires them again, with the same delivery ids.
      await deps.deliveries.enqueue(fired, now);
      await deps.timers.settle(settled);
      for (const timer of settled) outcomes.inc({ kind: timer.kind, outcome: timer.status });
      if (fired.length > 0) deps.enqueued(new Set(fired.map((delivery) => delivery.destinationId)));
      const last = page[page.length - 1]!;
      after = { dueAt: last.dueAt, timerId: last.timerId };
    }
  }

  /** Schedules the anniversaries coming within their rules' days that have no timer yet. */
  async function sweepAnniversaries(): Promise<void> {
    for (const destination of await deps.destinations()) {
      const rules = destination.triggers.filter((rule): rule is AnniversaryTrigger => rule.kind === 'anniversary');
      for (const rule of rules) {
        let after = '';
        for (;;) {
          const page = await traitValuesPage(client, rule.trait, after, pageSize);
          if (page.length === 0) break;
          after = page[page.length - 1]!.profileId;
          const now = Date.now();
          const coming = page
            .map((profile) => anniversaryTimer(destination, rule, profile, now))
            .filter((timer): timer is Timer => timer !== null);
          // The same anniversary under any profile the survivor absorbed counts as its own: a customer whose birthday
          // fired on a profile merged since is not wished a second time by the survivor that took the trait over.
          const storedIds = await storedIdsOfMany(
            client,
            coming.map((timer) => timer.profileId),
          );
          const candidates = coming.map((timer) => {
            const anniversary = timer.trigger?.kind === 'anniversary' ? timer.trigger.anniversary : '';
            const ids = (storedIds.get(timer.profileId) ?? [timer.profileId]).map((id) =>
              anniversaryTimerId(destination.id, timer.rule, id, anniversary),
            );
            return { timer, ids: [timer.timerId, ...ids] };
          });
          const stored = await deps.timers.existing(
            'anniversary',
            candidates.flatMap((candidate) => candidate.ids),
          );
          await deps.timers.schedule(
            candidates.filter((candidate) => !candidate.ids.some((id) => stored.has(id))).map(({ timer }) => timer),
          );
        }
      }
    }
  }

  let stopped = false;
  // Cuts the pause between polls short on close().
  const stopping = new AbortController();

  const loop = (async () => {
    let sweptAt = 0;
    while (!stopped) {
      try {
        if (Date.now() - sweptAt >= deps.anniversarySweepMs) {
          sweptAt = Date.now();
          await sweepAnniversaries();
        }
        await fireDue('anniversary', Date.now());
        // A follow-up is checked for its awaited event only once every event received by its due time has been read.
        const through = Math.min(Date.now(), await deps.caughtUpThrough());
        if (through > 0) await fireDue('follow_up', through);
      } catch (error) {
        logger.error({ err: error }, 'could not fire due timers; trying again');
      }
      if (!stopped) await sleep(deps.pollMs, undefined, { signal: stopping.signal }).catch(() => undefined);
    }
  })();

  return {
    async close() {
      stopped = true;
      stopping.abort();
      await loop;
    },
  };
}
