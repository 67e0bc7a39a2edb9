// Progress of a long send on stderr: a live bar on a terminal, plain lines otherwise (logs, CI); shared by `cdp demo` and `cdp import`.
import cliProgress from 'cli-progress';

export interface Progress<Payload extends Record<string, unknown>> {
  /** `value` of `total` done (the bar and its ETA follow them), with the figures the format shows. */
  update(value: number, total: number, payload: Payload): void;
  stop(): void;
}

export interface ProgressOptions<Payload extends Record<string, unknown>> {
  /** cli-progress format of the terminal bar: `{bar}`, `{percentage}`, `{value}`, `{total}`, `{eta_formatted}` and the payload's keys. */
  barFormat: string;
  /** The plain line written when stderr is not a terminal. */
  line(value: number, total: number, payload: Payload): string;
  /** When plain lines are written: at each tenth of the total, or every so many milliseconds. */
  plainEvery: 'tenth' | number;
  stream?: NodeJS.WriteStream;
}

export function createProgress<Payload extends Record<string, unknown>>(
  options: ProgressOptions<Payload>,
): Progress<Payload> {
  const stream = options.stream ?? process.stderr;
  if (!stream.isTTY) {
    let reportedTenth = -1;
    let lastLineAt = 0;
    let pending: (() => string) | null = null;
    return {
      update(value, total, payload) {
        if (options.plainEvery === 'tenth') {
          const tenth = total === 0 ? 10 : Math.floor((value / total) * 10);
          if (tenth === 0 || tenth <= reportedTenth) return;
          reportedTenth = tenth;
          stream.write(`${options.line(value, total, payload)}\n`);
          return;
        }
        const now = Date.now();
        if (lastLineAt === 0) lastLineAt = now;
        pending = () => options.line(value, total, payload);
        if (now - lastLineAt < options.plainEvery) return;
        lastLineAt = now;
        stream.write(`${pending()}\n`);
        pending = null;
      },
      stop() {
        pending = null;
      },
    };
  }
  const bar = new cliProgress.SingleBar(
    { stream, format: options.barFormat, hideCursor: true, etaBuffer: 40, fps: 10 },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(value, total, payload) {
      if (!started) {
        bar.start(total, value, payload);
        started = true;
      } else bar.update(value, payload);
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

/** Per second since `startedAt`, rounded. */
export const perSecond = (count: number, startedAt: number) =>
  Math.round(count / Math.max(0.001, (Date.now() - startedAt) / 1000));
