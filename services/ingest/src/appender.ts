// Group commit in front of the log: appends that arrive while one is in flight go out together in the next one.
import type { LogRecord } from '@cdp/runtime';

export interface AppenderOptions {
  /** Most bytes of record values in one produce (Kafka refuses record batches over 1 MB by default). */
  maxGroupBytes: number;
  /** Most bytes waiting; past it an append is refused at once rather than queued behind a log that does not answer. */
  maxQueuedBytes: number;
  /** How long one append may wait for the log before it fails. */
  timeoutMs: number;
}

interface Waiter {
  records: LogRecord[];
  bytes: number;
  settled: boolean;
  resolve(): void;
  reject(error: Error): void;
}

/**
 * An idempotent Kafka producer sends one request at a time, so one produce per HTTP request caps ingest at one
 * round trip per request. Grouping keeps every request's answer tied to its own records being durable.
 */
export function createAppender(produce: (records: LogRecord[]) => Promise<void>, options: AppenderOptions) {
  let queue: Waiter[] = [];
  let queuedBytes = 0;
  let inFlight = false;

  function take(): Waiter[] {
    const group: Waiter[] = [];
    let bytes = 0;
    let index = 0;
    for (; index < queue.length; index += 1) {
      const waiter = queue[index] as Waiter;
      if (waiter.settled) continue;
      if (group.length > 0 && bytes + waiter.bytes > options.maxGroupBytes) break;
      group.push(waiter);
      bytes += waiter.bytes;
    }
    queue = queue.slice(index);
    queuedBytes = queue.reduce((sum, waiter) => sum + (waiter.settled ? 0 : waiter.bytes), 0);
    return group;
  }

  function pump(): void {
    if (inFlight) return;
    const group = take();
    if (group.length === 0) return;
    inFlight = true;
    produce(group.flatMap((waiter) => waiter.records))
      .then(
        () => group.forEach((waiter) => waiter.resolve()),
        (error: Error) => group.forEach((waiter) => waiter.reject(error)),
      )
      .finally(() => {
        inFlight = false;
        pump();
      });
  }

  return function append(records: LogRecord[]): Promise<void> {
    const bytes = records.reduce((sum, record) => sum + record.value.length + record.key.length, 0);
    if (queuedBytes + bytes > options.maxQueuedBytes) {
      return Promise.reject(new Error(`${Math.round(queuedBytes / 1024)} KB already wait for the log`));
    }
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        // Still queued: it will never be sent. In flight: it may yet land, which a retry's messageId makes harmless.
        waiter.settled = true;
        reject(new Error(`no acknowledgement within ${options.timeoutMs} ms`));
      }, options.timeoutMs);
      const waiter: Waiter = {
        records,
        bytes,
        settled: false,
        resolve: () => {
          clearTimeout(timer);
          if (!waiter.settled) resolve();
          waiter.settled = true;
        },
        reject: (error) => {
          clearTimeout(timer);
          if (!waiter.settled) reject(error);
          waiter.settled = true;
        },
      };
      queue.push(waiter);
      queuedBytes += bytes;
      pump();
    });
  };
}
