// Analytics answers shared for a few seconds: a dashboard that asks the same question every few seconds, or many
// people with the console open, cost the store one computation per question and period instead of one each. The
// questions read months of events and their cost grows with the store, while the pipeline shares its cores.
import { LRUCache } from 'lru-cache';

/** Questions remembered at most; the least recently asked goes first. */
const maxQuestions = 500;

export interface Answer<T> {
  value: T;
  /** Whole seconds since it was computed: the HTTP `Age` of the response. */
  ageSeconds: number;
}

export interface AnswerCache {
  /**
   * The answer to `question`: unless `fresh`, the one computed within the last `seconds`, or an older one while its
   * successor is computed behind it, begun by the first caller within twice `seconds` and served until it is done
   * however long it takes (no reader waits for a recomputation); else `compute()`'s, which
   * callers asking the same question meanwhile share. A `fresh` answer is computed for this call, not taken from a
   * computation already under way (it may have begun before the caller's latest writes), and is shared from then
   * on. A failed computation is not kept.
   */
  answer<T>(question: string, fresh: boolean, compute: () => Promise<T>): Promise<Answer<T>>;
}

interface Entry {
  value: unknown;
  computedAt: number;
}

/** An answer cache keeping each answer `seconds`; 0 computes every answer (nothing kept or shared). */
export function createAnswerCache(seconds: number): AnswerCache {
  if (seconds <= 0)
    return { answer: async (_question, _fresh, compute) => ({ value: await compute(), ageSeconds: 0 }) };
  const freshMs = seconds * 1000;
  // Kept twice as long as it is fresh: the second half is served while the next answer is computed, and after that for
  // as long as that computation takes.
  const cache = new LRUCache<string, Entry, () => Promise<unknown>>({
    max: maxQuestions,
    ttl: 2 * freshMs,
    // A fresh answer replaces a computation under way; those waiting on that one still get its answer.
    ignoreFetchAbort: true,
    fetchMethod: async (_question, _stale, { context }) => ({ value: await context(), computedAt: Date.now() }),
  });
  // Questions whose next answer is computed behind the one served.
  const successorUnderWay = new Set<string>();
  const answerOf = <T>(entry: Entry): Answer<T> => ({
    value: entry.value as T,
    ageSeconds: Math.floor((Date.now() - entry.computedAt) / 1000),
  });
  return {
    async answer<T>(question: string, fresh: boolean, compute: () => Promise<T>): Promise<Answer<T>> {
      if (fresh) {
        // Replaces whatever is kept or under way; a computation under way that ends later does not overwrite it.
        const entry = { value: await compute(), computedAt: Date.now() };
        cache.set(question, entry);
        return answerOf(entry);
      }
      // Kept past its time too: while its successor is under way, it is served however long that takes.
      const kept = cache.peek(question, { allowStale: true });
      if (kept) {
        const ageMs = Date.now() - kept.computedAt;
        if (ageMs < freshMs || successorUnderWay.has(question)) return answerOf(kept);
        // Past its freshness: the next one is computed behind it (once, however many ask meanwhile).
        if (ageMs < 2 * freshMs) {
          successorUnderWay.add(question);
          cache
            .fetch(question, { context: compute, forceRefresh: true })
            .catch(() => undefined)
            .finally(() => successorUnderWay.delete(question));
          return answerOf(kept);
        }
      }
      return answerOf((await cache.fetch(question, { context: compute })) as Entry);
    },
  };
}

/**
 * Whether the request asks for an answer computed now (RFC 9111: `Cache-Control: no-cache`, `no-store` or
 * `max-age=0`, or `Pragma: no-cache`).
 */
export function wantsFresh(headers: Record<string, string | string[] | undefined>): boolean {
  const control = [headers['cache-control'] ?? []].flat().join(',').toLowerCase();
  const pragma = [headers.pragma ?? []].flat().join(',').toLowerCase();
  return /(^|[\s,])(no-cache|no-store|max-age\s*=\s*0)(?=$|[\s,])/.test(control) || pragma.includes('no-cache');
}
