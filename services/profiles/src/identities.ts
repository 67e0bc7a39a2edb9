// The identity projections (identities, migration 0002; profile_merges, 0004): written by the resolver through these,
// one row per identifier and per absorbed profile, versioned by the identity graph's version when written.
import { named, type ClickHouseClient } from '@cdp/runtime';

/** Each identifier (`type`, `value`) with the stored profile id it belongs to. */
export async function writeIdentities(
  client: ClickHouseClient,
  rows: Array<{ type: string; value: string; profileId: string }>,
  version: number,
): Promise<void> {
  if (rows.length === 0) return;
  await client.insert(
    named('profiles.writeIdentities', {
      table: 'identities',
      values: rows.map(({ type, value, profileId }) => ({ type, value, profile_id: profileId, version })),
      format: 'JSONEachRow',
    }),
  );
}

/** Each absorbed profile id with its final survivor: the survivor map every read follows (survivors.ts). */
export async function writeMerges(
  client: ClickHouseClient,
  merges: Array<{ loserId: string; survivorId: string }>,
  version: number,
): Promise<void> {
  if (merges.length === 0) return;
  await client.insert(
    named('profiles.writeMerges', {
      table: 'profile_merges',
      values: merges.map((merge) => ({ loser_id: merge.loserId, survivor_id: merge.survivorId, version })),
      format: 'JSONEachRow',
    }),
  );
}
