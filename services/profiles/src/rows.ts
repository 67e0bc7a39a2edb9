// The rows of one named query, as JSON objects.
import type { ClickHouseClient } from '@cdp/runtime';

export async function rows<T>(client: ClickHouseClient, query: string, params: Record<string, unknown> = {}): Promise<T[]> {
  const result = await client.query({ query, query_params: params, format: 'JSONEachRow' });
  return result.json<T>();
}
