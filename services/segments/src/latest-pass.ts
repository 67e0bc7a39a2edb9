// What the latest evaluation says beyond membership: who entered and left each segment in it, and the RFM grid.
import { movementsOf } from '@cdp/profiles';
import { named, type ClickHouseClient } from '@cdp/runtime';
import { latestEvaluated, latestPass } from './passes';

export interface Movements {
  /**
   * ISO instant the latest evaluation that has ended began (every segment's changes of it stored); null before the
   * first. Not the latest pass: its segments may still be being diffed, their sizes not yet moved.
   */
  evaluatedAt: string | null;
  /** Per segment id, the profiles that entered and left it in that pass. */
  bySegment: Map<string, { entered: number; exited: number }>;
}

export async function latestMovements(client: ClickHouseClient): Promise<Movements> {
  const pass = await latestEvaluated(client);
  if (pass === null) return { evaluatedAt: null, bySegment: new Map() };
  // A pass stores its changes as membership rows of its version, the pass's id.
  return { evaluatedAt: new Date(pass).toISOString(), bySegment: await movementsOf(client, pass) };
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
  const pass = await latestPass(client);
  if (!pass) return { evaluatedAt: null, customers: 0, cells: [] };
  const result = await client.query(
    named('segments.readRfmGrid', { query: rfmGridQuery, query_params: { pass: pass.id }, format: 'JSONEachRow' }),
  );
  const cells = (await result.json<{ recency: number; frequency: number; customers: number }>()).map((row) => ({
    recency: Number(row.recency),
    frequency: Number(row.frequency),
    customers: Number(row.customers),
  }));
  return {
    evaluatedAt: new Date(pass.id).toISOString(),
    customers: cells.reduce((sum, cell) => sum + cell.customers, 0),
    cells,
  };
}
