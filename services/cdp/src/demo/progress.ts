// Progress of `cdp demo` on stderr: a live bar on a terminal, a plain line per tenth otherwise (logs, CI).
import cliProgress from 'cli-progress';

export interface Progress {
  update(sent: number, total: number): void;
  stop(): void;
}

type Stream = NodeJS.WriteStream;

export function createProgress(stream: Stream = process.stderr): Progress {
  // Timed from the first report, when sending starts (generating comes before it).
  let startedAt = 0;
  const rate = (sent: number) => Math.round(sent / Math.max(0.001, (Date.now() - startedAt) / 1000));
  if (!stream.isTTY) {
    let reportedTenth = -1;
    return {
      update(sent, total) {
        if (startedAt === 0) startedAt = Date.now();
        const tenth = total === 0 ? 10 : Math.floor((sent / total) * 10);
        if (tenth === 0 || tenth <= reportedTenth) return;
        reportedTenth = tenth;
        stream.write(`demo: ${sent}/${total} events sent (${tenth * 10}%), ${rate(sent)} events/s\n`);
      },
      stop() {},
    };
  }
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: 'demo [{bar}] {percentage}% | {value}/{total} events | {speed} events/s | ETA {eta_formatted}',
      hideCursor: true,
      etaBuffer: 40,
      fps: 10,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(sent, total) {
      if (!started) {
        startedAt = Date.now();
        bar.start(total, sent, { speed: 0 });
        started = true;
      } else bar.update(sent, { speed: rate(sent) });
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
