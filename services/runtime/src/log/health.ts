// Whether each event-log consumer still consumes, for /readyz (`consumer:<group>`) and /metrics (`cdp_log_consumer_up`).
import type { ReadinessCheck } from '../http';
import type { Metrics } from '../metrics';
import type { EventLog } from './types';

/** Per consumer group open on the log, whether every consumer of it is healthy (a stopped one is not). */
function healthByGroup(log: EventLog): Map<string, boolean> {
  const groups = new Map<string, boolean>();
  for (const consumer of log.consumers())
    groups.set(consumer.groupId, (groups.get(consumer.groupId) ?? true) && consumer.healthy());
  return groups;
}

/** A readiness check per consumer group, named `consumer:<group>`; groups come and go with their consumers. */
export function consumerReadiness(log: EventLog): () => Record<string, ReadinessCheck> {
  return () =>
    Object.fromEntries([...healthByGroup(log)].map(([group, healthy]) => [`consumer:${group}`, async () => healthy]));
}

/** `cdp_log_consumer_up{group}`: 1 while the group's consumers consume, 0 once one has stopped. */
export function watchConsumers(log: EventLog, metrics: Metrics): void {
  metrics.gauge(
    'cdp_log_consumer_up',
    'Whether the consumers of an event-log consumer group in this process still consume (1) or one has stopped (0)',
    ['group'],
    (gauge) => {
      gauge.reset();
      for (const [group, healthy] of healthByGroup(log)) gauge.set({ group }, healthy ? 1 : 0);
    },
  );
}
