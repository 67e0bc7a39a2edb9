// Prometheus metrics: one registry per process, shared by every service running in it.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Sets a gauge's values when the registry is scraped (a gauge of something read, not counted). */
export type GaugeCollect<L extends string> = (gauge: Gauge<L>) => void | Promise<void>;

export interface Metrics {
  registry: Registry;
  httpDuration: Histogram<'method' | 'route' | 'status'>;
  counter<L extends string>(name: string, help: string, labelNames?: L[]): Counter<L>;
  /** With `collect`, the gauge is read at each scrape; the newest service to pass one for a name is the one read. */
  gauge<L extends string>(name: string, help: string, labelNames?: L[], collect?: GaugeCollect<L>): Gauge<L>;
  histogram<L extends string>(name: string, help: string, labelNames: L[], buckets: number[]): Histogram<L>;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'cdp_' });
  const httpDuration = new Histogram({
    name: 'cdp_http_request_duration_seconds',
    help: 'HTTP request duration by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  // Metrics are created once per name; a service started twice in one process (tests) reuses them.
  const reuse = <T>(name: string, make: () => T): T => (registry.getSingleMetric(name) as T | undefined) ?? make();
  return {
    registry,
    httpDuration,
    counter: (name, help, labelNames = []) =>
      reuse(name, () => new Counter({ name, help, labelNames, registers: [registry] })),
    gauge: <L extends string>(name: string, help: string, labelNames: L[] = [], collect?: GaugeCollect<L>) => {
      const gauge = reuse(name, () => new Gauge<L>({ name, help, labelNames, registers: [registry] }));
      // prom-client calls a gauge's `collect` with the gauge as `this` before reading it.
      if (collect) Object.assign(gauge, { collect: () => collect(gauge) });
      return gauge;
    },
    histogram: (name, help, labelNames, buckets) =>
      reuse(name, () => new Histogram({ name, help, labelNames, buckets, registers: [registry] })),
  };
}
