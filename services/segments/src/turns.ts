// One evaluation at a time in a process, and versions that only grow: full passes and followed changes take turns.

export interface Turns {
  /** Runs `work` after every evaluation asked for before it has ended; its failure is the caller's. */
  run<T>(work: () => Promise<T>): Promise<T>;
  /**
   * An evaluation's version: the instant it began (epoch ms), above every earlier one of this process, also for two
   * in one millisecond. Membership rows carry it, and a row of a later version is never overwritten by an earlier one.
   */
  nextVersion(now: number): number;
  /** A full pass of this version is under way until `fullPassEnded`. */
  fullPassBegan(version: number): void;
  /**
   * Whether the profiles an evaluation of some profiles decided (its pass of them) must be kept: while a full pass is
   * under way, which read older data and must leave them as decided, even where the decision changed nothing.
   */
  keep(version: number): boolean;
  /** The kept passes of profiles decided after the full pass of `version` began. */
  decidedAfter(version: number): number[];
  /** The full pass ended: returns the kept passes, for the caller to drop. */
  fullPassEnded(): number[];
}

export function createTurns(): Turns {
  let last = 0;
  let queue: Promise<unknown> = Promise.resolve();
  let fullPass: number | null = null;
  let kept: number[] = [];
  return {
    run<T>(work: () => Promise<T>): Promise<T> {
      const turn = queue.then(work);
      queue = turn.catch(() => undefined);
      return turn;
    },
    nextVersion(now) {
      return (last = Math.max(now, last + 1));
    },
    fullPassBegan(version) {
      fullPass = version;
    },
    keep(version) {
      if (fullPass === null || version < fullPass) return false;
      kept.push(version);
      return true;
    },
    decidedAfter: (version) => kept.filter((pass) => pass > version),
    fullPassEnded() {
      const ended = kept;
      fullPass = null;
      kept = [];
      return ended;
    },
  };
}
