// What a delivery carries: its trigger and the profile (identifiers, chosen traits, stats, segments), read at send time.
import { findProfileId, readProfile, type Profile, type ProfileRefType } from '@cdp/profiles';
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
  /** The delivery's payload, or null while its event's profile is not in ClickHouse yet. */
  payloadOf(
    destination: Destination,
    delivery: Pick<Delivery, 'deliveryId' | 'profileId' | 'trigger'>,
  ): Promise<Payload | null>;
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
  async function profileIdOf(delivery: Pick<Delivery, 'profileId' | 'trigger'>): Promise<string | null> {
    if (delivery.profileId) return findProfileId(client, 'profile_id', delivery.profileId);
    if (!('identifiers' in delivery.trigger)) return null;
    for (const identifier of delivery.trigger.identifiers) {
      const found = await findProfileId(client, identifier.type, identifier.value);
      if (found) return found;
    }
    return null;
  }

  async function profilePart(profileId: string, traits: string[] | null): Promise<Payload['profile']> {
    const profile = await readProfile(client, profileId, await liveSegmentIds());
    return {
      profileId: profile.profileId,
      identities: profile.identities,
      traits: chosenTraits(profile.traits, traits),
      stats: profile.stats,
      segments: profile.segments,
    };
  }

  return {
    async payloadOf(destination, delivery) {
      const profileId = await profileIdOf(delivery);
      if (!profileId) return null;
      return {
        id: delivery.deliveryId,
        destinationId: destination.id,
        trigger: shownTrigger(delivery.trigger),
        profile: await profilePart(profileId, destination.traits),
      };
    },
    async previewOf(ref, traits, now) {
      const profileId = await findProfileId(client, ref.type, ref.value);
      if (!profileId) return null;
      return {
        id: 'dlv_preview',
        destinationId: 'dst_preview',
        test: true,
        trigger: { kind: 'test', at: new Date(now).toISOString() },
        profile: await profilePart(profileId, traits),
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
