// The first copy of a messageId wins: a window of the messageIds this resolver stored lately, so a client's retry
// dated later (or a replayed batch) moves no latest value, counts no second revenue and makes no second presence.
export interface DedupeOptions {
  /** How long a stored messageId is remembered. */
  windowMs: number;
  /** The most messageIds remembered; the oldest go first. */
  maxIds: number;
  now?: () => number;
}

export interface DedupeWindow {
  /** Whether this process stored the messageId within the window. */
  seen(messageId: string): boolean;
  /** Remembers messageIds just stored. */
  remember(messageIds: Iterable<string>): void;
  readonly size: number;
}

export function createDedupeWindow(options: DedupeOptions): DedupeWindow {
  const now = options.now ?? Date.now;
  // Insertion order is storage order: the oldest entry is always first.
  const storedAt = new Map<string, number>();

  function evict(): void {
    const oldest = now() - options.windowMs;
    for (const [messageId, at] of storedAt) {
      if (storedAt.size <= options.maxIds && at >= oldest) break;
      storedAt.delete(messageId);
    }
  }

  return {
    seen(messageId) {
      const at = storedAt.get(messageId);
      return at !== undefined && at >= now() - options.windowMs;
    },
    remember(messageIds) {
      const at = now();
      for (const messageId of messageIds) {
        // Re-inserted, so it moves to the end and keeps the order by time.
        storedAt.delete(messageId);
        storedAt.set(messageId, at);
      }
      evict();
    },
    get size() {
      return storedAt.size;
    },
  };
}
