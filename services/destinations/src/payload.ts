// What a delivery carries: its trigger and the profile (identifiers, chosen traits, stats, segments), read at send time.
import { findProfileId, findProfileIds, readProfiles, type Profile, type ProfileRefType } from '@cdp/profiles';
import type { ClickHouseClient } from '@cdp/runtime';
import type { Destination } from './definitions';
import type { Delivery, TriggerRecord } from './deliveries';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** The documented default body, and what a template sees. */
export interface Payload {
  [key: string]: unknown;
  id: string;
  destinationId: string;
  trigger: DistributiveOmit<TriggerRecord, 'identifiers'> | { kind: 'test'; at: string };
  profile: Pick<Profile, 'profileId' | 'identities' | 'traits' | 'stats' | 'segments'>;
}

export interface PayloadReader {
  /**
   * The deliveries' payloads, in their order, read together (one read per part of the profile for all of them); null
   * for one whose event's profile is not in ClickHouse yet.
   */
  payloadsOf(
    destination: Destination,
    deliveries: Array<Pick<Delivery, 'deliveryId' | 'profileId' | 'trigger'>>,
  ): Promise<Array<Payload | null>>;
  /** What a delivery to a destination with these traits would carry for the customer named, as a test; null: nobody. */
  previewOf(
    ref: { type: ProfileRefType; value: string },
    traits: string[] | null,
    now: number,
  ): Promise<Payload | null>;
}

const chosenTraits = (traits: Record<string, unknown>, chosen: string[] | null) =>
  chosen
    ? Object.fromEntries(chosen.filter((name) => Object.hasOwn(traits, name)).map((name) => [name, traits[name]]))
    : traits;

/** The trigger as a receiver sees it: the identifiers that found the profile are the profile's business. */
function shownTrigger(trigger: TriggerRecord): Payload['trigger'] {
  if (!('identifiers' in trigger)) return trigger;
  const { identifiers: _identifiers, ...shown } = trigger;
  return shown;
}

export function createPayloadReader(client: ClickHouseClient, liveSegmentIds: () => Promise<string[]>): PayloadReader {
  /** Each delivery's survivor profile: by its profile id, else the first of its event's identifiers found; or null. */
  async function profileIdsOf(
    deliveries: Array<Pick<Delivery, 'profileId' | 'trigger'>>,
  ): Promise<Array<string | null>> {
    const refs = deliveries.map((delivery) =>
      delivery.profileId
        ? [{ type: 'profile_id' as const, value: delivery.profileId }]
        : 'identifiers' in delivery.trigger
          ? delivery.trigger.identifiers
          : [],
    );
    const found = await findProfileIds(client, refs.flat());
    let next = 0;
    return refs.map((own) => {
      const mine = found.slice(next, (next += own.length));
      return mine.find((profileId) => profileId !== null) ?? null;
    });
  }

  async function profileParts(profileIds: string[], traits: string[] | null): Promise<Map<string, Payload['profile']>> {
    const profiles = await readProfiles(client, profileIds, profileIds.length > 0 ? await liveSegmentIds() : []);
    return new Map(
      [...profiles].map(([profileId, profile]) => [
        profileId,
        {
          profileId: profile.profileId,
          identities: profile.identities,
          traits: chosenTraits(profile.traits, traits),
          stats: profile.stats,
          segments: profile.segments,
        },
      ]),
    );
  }

  return {
    async payloadsOf(destination, deliveries) {
      const profileIds = await profileIdsOf(deliveries);
      const parts = await profileParts(
        profileIds.filter((profileId) => profileId !== null),
        destination.traits,
      );
      return deliveries.map((delivery, index) => {
        const profile = parts.get(profileIds[index] ?? '');
        return profile
          ? { id: delivery.deliveryId, destinationId: destination.id, trigger: shownTrigger(delivery.trigger), profile }
          : null;
      });
    },
    async previewOf(ref, traits, now) {
      const profileId = await findProfileId(client, ref.type, ref.value);
      if (!profileId) return null;
      return {
        id: 'dlv_preview',
        destinationId: 'dst_preview',
        test: true,
        trigger: { kind: 'test', at: new Date(now).toISOString() },
        profile: (await profileParts([profileId], traits)).get(profileId)!,
      };
    },
  };
}

/** A made-up customer for `POST /v1/destinations/{id}/test`. */
export function samplePayload(destination: Destination, id: string, now: number): Payload {
  return {
    id,
    destinationId: destination.id,
    test: true,
    trigger: { kind: 'test', at: new Date(now).toISOString() },
    profile: {
      profileId: 'prf_sample',
      identities: [
        { type: 'user_id', value: 'sample-customer' },
        { type: 'email', value: 'khach.hang@example.com' },
      ],
      traits: chosenTraits(
        { name: 'Nguyễn Thị Lan', email: 'khach.hang@example.com', city: 'Hà Nội' },
        destination.traits,
      ),
      stats: {
        firstSeen: '2025-01-05T02:00:00.000Z',
        lastSeen: new Date(now).toISOString(),
        events: 42,
        orders: 3,
        revenue: 1_250_000,
        lastOrderAt: '2025-03-01T03:30:00.000Z',
        channels: ['app', 'store'],
        latestNps: 9,
        latestCsat: 5,
        openTickets: 0,
      },
      segments: [],
    },
  };
}
