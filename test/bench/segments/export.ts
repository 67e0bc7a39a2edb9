// Reads a segment's audience as CSV to the end over HTTP while sampling the serving process's resident memory.
import { readFileSync, writeFileSync } from 'node:fs';

export interface ExportResult {
  rows: number;
  bytes: number;
  seconds: number;
  firstByteMs: number;
  rssBeforeMb: number;
  rssPeakMb: number;
  rssAfterMb: number;
  samples: number;
}

const sampleMs = 50;

/** VmRSS and VmHWM (peak since the last reset) of a process, in MB. */
function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) / 1024;
  return { rss: field('VmRSS'), peak: field('VmHWM') };
}

/** Resets the kernel's peak-RSS mark of the process (clear_refs 5), so VmHWM then covers only the export. */
function resetPeak(pid: number): void {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
  } catch {
    // Not permitted here: the 50 ms samples alone bound the peak.
  }
}

export async function exportCsv(options: {
  url: string;
  key: string;
  segmentId: string;
  traits: string[];
  serverPid: number;
}): Promise<ExportResult> {
  const { serverPid } = options;
  const before = memoryOf(serverPid);
  resetPeak(serverPid);
  let peak = memoryOf(serverPid).rss;
  let samples = 0;
  const sampler = setInterval(() => {
    peak = Math.max(peak, memoryOf(serverPid).rss);
    samples += 1;
  }, sampleMs);
  const started = performance.now();
  let firstByteMs = NaN;
  let newlines = 0;
  let bytes = 0;
  try {
    const query = new URLSearchParams({ traits: options.traits.join(',') });
    const response = await fetch(
      `${options.url}/v1/segments/${encodeURIComponent(options.segmentId)}/members?${query}`,
      {
        headers: { authorization: `Bearer ${options.key}`, accept: 'text/csv' },
      },
    );
    if (response.status !== 200 || !response.body)
      throw new Error(`export: ${response.status} ${await response.text()}`);
    for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
      if (Number.isNaN(firstByteMs)) firstByteMs = performance.now() - started;
      bytes += chunk.length;
      // Fields never hold a raw line break here (ids, emails, plans, countries), so each CRLF ends a row.
      for (let index = chunk.indexOf(10); index !== -1; index = chunk.indexOf(10, index + 1)) newlines += 1;
    }
  } finally {
    clearInterval(sampler);
  }
  const seconds = (performance.now() - started) / 1000;
  const after = memoryOf(serverPid);
  return {
    rows: newlines - 1,
    bytes,
    seconds,
    firstByteMs,
    rssBeforeMb: before.rss,
    rssPeakMb: Math.max(peak, Number.isNaN(after.peak) ? 0 : after.peak),
    rssAfterMb: after.rss,
    samples,
  };
}
