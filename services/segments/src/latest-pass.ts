// What the latest evaluation pass says beyond membership: who entered and left each segment in it, and the RFM grid.
import type { ClickHouseClient } from '@cdp/runtime';
import { latestSnapshot } from './profiles';

export interface Movements {
  /** ISO instant the latest complete pass began; null before the first evaluation. */
  evaluatedAt: string | null;
  /** Per segment id, the profiles that entered and left it in that pass. */
  bySegment: Map<string, { entered: number; exited: number }>;
}

// A pass stores its changes as membership rows versioned by its number; a retried store writes the same rows again.
const movementsQuery = `
  SELECT segment_id, uniqExactIf(profile_id, is_member = 1) AS entered, uniqExactIf(profile_id, is_member = 0) AS exited
  FROM segment_membership
  WHERE version = {pass:UInt64}
  GROUP BY segment_id`;

export async function latestMovements(client: ClickHouseClient): Promise<Movements> {
  const snapshot = await latestSnapshot(client);
  if (!snapshot) return { evaluatedAt: null, bySegment: new Map() };
  const result = await client.query({ query: movementsQuery, query_params: { pass: snapshot.pass }, format: 'JSONEachRow' });
  const rows = await result.json<{ segment_id: string; entered: number; exited: number }>();
  return {
    evaluatedAt: new Date(snapshot.pass).toISOString(),
    bySegment: new Map(rows.map((row) => [row.segment_id, { entered: Number(row.entered), exited: Number(row.exited) }])),
  };
}

export interface RfmGrid {
  evaluatedAt: string | null;
  /** Profiles with at least one order, which have RFM scores. */
  customers: number;
  /** Customers per recency and frequency score (1–5 each); cells without customers are left out. */
  cells: Array<{ recency: number; frequency: number; customers: number }>;
}

const rfmGridQuery = `
  SELECT assumeNotNull(stat_rfm_recency) AS recency, assumeNotNull(stat_rfm_frequency) AS frequency, count() AS customers
  FROM segment_profiles
  WHERE pass = {pass:UInt64} AND profile_id != '' AND stat_rfm_recency IS NOT NULL AND stat_rfm_frequency IS NOT NULL
  GROUP BY recency, frequency
  ORDER BY recency, frequency`;

/** Customers by RFM recency and frequency score as the latest pass scored them (the built-in RFM groups' inputs). */
export async function latestRfmGrid(client: ClickHouseClient): Promise<RfmGrid> {
  const snapshot = await latestSnapshot(client);
  if (!snapshot) return { evaluatedAt: null, customers: 0, cells: [] };
  const result = await client.query({ query: rfmGridQuery, query_params: { pass: snapshot.pass }, format: 'JSONEachRow' });
  const cells = (await result.json<{ recency: number; frequency: number; customers: number }>()).map((row) => ({
    recency: Number(row.recency),
    frequency: Number(row.frequency),
    customers: Number(row.customers),
  }));
  return { evaluatedAt: new Date(snapshot.pass).toISOString(), customers: cells.reduce((sum, cell) => sum + cell.customers, 0), cells };
}
