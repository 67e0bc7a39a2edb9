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
   * however long it takes (no reader waits for a recomputation); else `compute()`'s, which callers asking the same
   * question meanwhile share. When a successor fails (the store busy past a query's limit, or down), the answer it
   * was to replace is served on, up to ten times `seconds` old, and another successor is begun no sooner than
   * `seconds` after the failure (stale-if-error, RFC 5861). A `fresh` answer is computed for this call, not taken
   * from a computation already under way (it may have begun before the caller's latest writes), and is shared from
   * then on. A failed computation is not kept.
   */
  answer<T>(question: string, fresh: boolean, compute: () => Promise<T>): Promise<Answer<T>>;
}

interface Entry {
  value: unknown;
  computedAt: number;
  /** Its computation's place in the order they began: an answer replaces only one whose computation began earlier. */
  begun: number;
}

/** One question's kept answer, the computation of its next under way, and when the latest one failed. */
interface Question {
  kept?: Entry | undefined;
  underWay?: Promise<Entry> | undefined;
  failedAt?: number | undefined;
}

/** An answer is served at most this many times its seconds old, and that only while its successors fail. */
const staleIfErrorTimes = 10;

/** An answer cache keeping each answer `seconds`; 0 computes every answer (nothing kept or shared). */
export function createAnswerCache(seconds: number): AnswerCache {
  if (seconds <= 0)
    return { answer: async (_question, _fresh, compute) => ({ value: await compute(), ageSeconds: 0 }) };
  const freshMs = seconds * 1000;
  const staleIfErrorMs = staleIfErrorTimes * freshMs;
  let began = 0;
  // Past that age nothing of a question is served, so its record may go.
  const questions = new LRUCache<string, Question>({ max: maxQuestions, ttl: staleIfErrorMs });
  const questionOf = (question: string): Question => {
    const known = questions.get(question);
    if (known) return known;
    const created: Question = {};
    questions.set(question, created);
    return created;
  };
  const keep = (question: string, state: Question, entry: Entry) => {
    if (!state.kept || entry.begun > state.kept.begun) state.kept = entry;
    questions.set(question, state);
  };
  // One computation of the question, shared by whoever asks meanwhile; its answer kept, its failure remembered.
  const computation = (question: string, state: Question, compute: () => Promise<unknown>): Promise<Entry> => {
    const begun = (began += 1);
    const underWay: Promise<Entry> = compute()
      .then(
        (value) => {
          const entry = { value, computedAt: Date.now(), begun };
          keep(question, state, entry);
          state.failedAt = undefined;
          return entry;
        },
        (error: unknown) => {
          state.failedAt = Date.now();
          throw error;
        },
      )
      .finally(() => {
        if (state.underWay === underWay) state.underWay = undefined;
      });
    state.underWay = underWay;
    return underWay;
  };
  const answerOf = <T>(entry: Entry): Answer<T> => ({
    value: entry.value as T,
    ageSeconds: Math.floor((Date.now() - entry.computedAt) / 1000),
  });
  return {
    async answer<T>(question: string, fresh: boolean, compute: () => Promise<T>): Promise<Answer<T>> {
      const state = questionOf(question);
      if (fresh) {
        // Replaces whatever is kept; a computation under way that began earlier does not overwrite it.
        const begun = (began += 1);
        const entry = { value: await compute(), computedAt: Date.now(), begun };
        keep(question, state, entry);
        return answerOf(entry);
      }
      const { kept } = state;
      if (kept) {
        const now = Date.now();
        const ageMs = now - kept.computedAt;
        if (ageMs < freshMs) return answerOf(kept);
        const successorFailed = state.failedAt !== undefined && state.failedAt > kept.computedAt;
        if (ageMs < 2 * freshMs || state.underWay || (successorFailed && ageMs < staleIfErrorMs)) {
          // The next one is computed behind it (once, however many ask meanwhile), not again at once after a failure.
          const resting = state.failedAt !== undefined && now - state.failedAt < freshMs;
          if (!state.underWay && !resting) computation(question, state, compute).catch(() => undefined);
          return answerOf(kept);
        }
      }
      return answerOf(await (state.underWay ?? computation(question, state, compute)));
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
