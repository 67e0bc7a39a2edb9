// One evaluation at a time in a process, and versions that only grow: full passes and followed changes take turns.

export interface Turns {
  /** Runs `work` after every evaluation asked for before it has ended; its failure is the caller's. */
  run<T>(work: () => Promise<T>): Promise<T>;
  /**
   * An evaluation's version: the instant it began (epoch ms), above every earlier one of this process, also for two
   * in one millisecond. Membership rows carry it, and a row of a later version is never overwritten by an earlier one.
   */
  nextVersion(now: number): number;
}

export function createTurns(): Turns {
  let last = 0;
  let queue: Promise<unknown> = Promise.resolve();
  return {
    run<T>(work: () => Promise<T>): Promise<T> {
      const turn = queue.then(work);
      queue = turn.catch(() => undefined);
      return turn;
    },
    nextVersion(now) {
      return (last = Math.max(now, last + 1));
    },
  };
}
