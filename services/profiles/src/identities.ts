// The identity projections (identities, migration 0002; profile_merges, 0004): written by the resolver through these,
// one row per identifier and per absorbed profile, versioned by the identity graph's version when written.
import { named, tabSeparated, type ClickHouseClient } from '@cdp/runtime';

/** Each identifier (`type`, `value`) with the stored profile id it belongs to. */
export async function writeIdentities(
  client: ClickHouseClient,
  rows: Array<{ type: string; value: string; profileId: string; version: number }>,
): Promise<void> {
  if (rows.length === 0) return;
  await client.insert(
    named('profiles.writeIdentities', {
      table: 'identities',
      columns: ['type', 'value', 'profile_id', 'version'],
      format: 'TabSeparated',
      values: tabSeparated(rows.map(({ type, value, profileId, version }) => [type, value, profileId, version])),
    }),
  );
}

/** Each absorbed profile id with its final survivor: the survivor map every read follows (survivors.ts). */
export async function writeMerges(
  client: ClickHouseClient,
  merges: Array<{ loserId: string; survivorId: string; version: number }>,
): Promise<void> {
  if (merges.length === 0) return;
  await client.insert(
    named('profiles.writeMerges', {
      table: 'profile_merges',
      columns: ['loser_id', 'survivor_id', 'version'],
      format: 'TabSeparated',
      values: tabSeparated(merges.map((merge) => [merge.loserId, merge.survivorId, merge.version])),
    }),
  );
}
