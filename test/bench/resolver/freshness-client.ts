// The freshness run's HTTP side: write-key posts, read-key profile reads and the Prometheus backlog, over pooled keep-alive fetch.
import { performance } from 'node:perf_hooks';
import { basicAuth, metricOf } from '../../harness/http';
import type { ServedPlatform } from './freshness-server';

export type PlatformClient = ReturnType<typeof platformClient>;

export function platformClient(server: ServedPlatform) {
  const counts = { reads: 0, errors: 0, lastError: '', readMs: [] as number[] };
  const writeHeaders = { 'content-type': 'application/json', authorization: basicAuth(server.writeKey) };
  const readHeaders = { authorization: `Bearer ${server.readKey}` };
  const failed = (what: string) => {
    counts.errors += 1;
    counts.lastError = what;
  };
  return {
    counts,
    async post(path: string, body: unknown): Promise<boolean> {
      try {
        const response = await fetch(`${server.url}${path}`, {
          method: 'POST',
          headers: writeHeaders,
          body: JSON.stringify(body),
        });
        const text = await response.text();
        if (response.status !== 200) failed(`POST ${path}: ${response.status} ${text.slice(0, 200)}`);
        return response.status === 200;
      } catch (error) {
        failed(`POST ${path}: ${(error as Error).message}`);
        return false;
      }
    },
    /** True once the profile of this userId exists and counts an event; a 404 is "not yet", anything else an error. */
    async visible(userId: string): Promise<boolean> {
      counts.reads += 1;
      try {
        const began = performance.now();
        const response = await fetch(`${server.url}/v1/profiles/user_id:${encodeURIComponent(userId)}`, {
          headers: readHeaders,
        });
        const text = await response.text();
        counts.readMs.push(performance.now() - began);
        if (response.status !== 200) {
          if (response.status !== 404) failed(`GET /v1/profiles: ${response.status} ${text.slice(0, 200)}`);
          return false;
        }
        const events = (JSON.parse(text) as { stats?: { events?: unknown } }).stats?.events;
        return typeof events === 'number' ? events >= 1 : true;
      } catch (error) {
        failed(`GET /v1/profiles: ${(error as Error).message}`);
        return false;
      }
    },
    /**
     * From the Prometheus endpoint: ingest's accepted count minus the resolver's written count, and the server's
     * longest event-loop delay since the previous scrape (the histogram resets on every scrape).
     */
    async progress(): Promise<{ backlog: number; loopDelayMs: number }> {
      const text = await (await fetch(`${server.url}/metrics`)).text();
      const total = (name: string) => metricOf(text, name);
      return {
        backlog:
          total('cdp_ingest_events_accepted_total') -
          total('cdp_resolver_events_written_total') -
          total('cdp_resolver_events_duplicate_total'),
        loopDelayMs: total('cdp_nodejs_eventloop_lag_max_seconds') * 1000,
      };
    },
  };
}
