// The rows of one named query, as JSON objects.
import { named, type ClickHouseClient } from '@cdp/runtime';

export async function rows<T>(
  client: ClickHouseClient,
  name: string,
  query: string,
  params: Record<string, unknown> = {},
): Promise<T[]> {
  const result = await client.query(named(name, { query, query_params: params, format: 'JSONEachRow' }));
  return result.json<T>();
}
