// `pnpm bench import`: rows/s of `cdp import` on a generated customer CSV into the embedded runtime, and its memory, against the same rows sent as plain batches.
import { spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { once } from 'node:events';
import { basicAuth } from '../harness/http';
import { spawnCdp } from '../harness/process';
import { cpuOf, memoryOf } from './proc';

const rows = Number(process.env.BENCH_ROWS ?? 1_000_000);
const batchRows = 500;
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 4);
if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64)
  throw new Error(
    `BENCH_CONCURRENCY must be a whole number from 1 to 64 (cdp import's --concurrency), not ${process.env.BENCH_CONCURRENCY}`,
  );
const cdpBin = fileURLToPath(new URL('../../services/cdp/bin/cdp.cjs', import.meta.url));
/** BENCH_PROFILE=1: --cpu-prof profiles of `cdp ingest` and `cdp import` into bench-profiles/. */
const profile = process.env.BENCH_PROFILE ? ['--cpu-prof', '--cpu-prof-dir', 'bench-profiles'] : [];
const out = (line: string) => process.stdout.write(`${line}\n`);
const progress = (line: string) => process.stderr.write(`${line}\n`);

const families = [
  'Nguyễn',
  'Trần',
  'Lê',
  'Phạm',
  'Hoàng',
  'Huỳnh',
  'Phan',
  'Vũ',
  'Võ',
  'Đặng',
  'Bùi',
  'Đỗ',
  'Hồ',
  'Ngô',
  'Dương',
  'Lý',
];
const middles = ['Văn', 'Thị', 'Hữu', 'Minh', 'Ngọc', 'Thanh', 'Quốc', 'Thu'];
const givens = [
  'An',
  'Bình',
  'Cường',
  'Dũng',
  'Hằng',
  'Hương',
  'Lan',
  'Linh',
  'Mai',
  'Nam',
  'Phúc',
  'Quân',
  'Thảo',
  'Trang',
  'Tuấn',
  'Vy',
];
const districts = ['Quận 1', 'Quận 3', 'Bình Thạnh', 'Hoàn Kiếm', 'Cầu Giấy', 'Hải Châu'];

/** Customer i, as the spreadsheet writes it and as its identify message carries it. */
function customer(i: number) {
  const digits = String(10_000_000 + i).slice(-8);
  return {
    userId: `KH${i}`,
    name: `${families[i % 16]} ${middles[(i >> 4) % 8]} ${givens[(i >> 7) % 16]}`,
    localPhone: `09${digits.slice(0, 2)} ${digits.slice(2, 5)} ${digits.slice(5)}`,
    phone: `+849${digits}`,
    email: `kh${i}@example.vn`,
    points: i % 1000,
    address: `${i % 200} Lê Lợi, ${districts[i % 6]}`,
  };
}

async function writeCsv(file: string): Promise<void> {
  const stream = createWriteStream(file);
  stream.write('\ufeffMã KH,Họ tên,Số điện thoại,Email,Điểm,Địa chỉ\r\n');
  for (let start = 0; start < rows; start += 10_000) {
    let chunk = '';
    for (let i = start; i < Math.min(rows, start + 10_000); i += 1) {
      const c = customer(i);
      chunk += `${c.userId},${c.name},${c.localPhone},${c.email},${c.points},"${c.address}"\r\n`;
    }
    if (!stream.write(chunk)) await once(stream, 'drain');
  }
  stream.end();
  await once(stream, 'finish');
}

interface Server {
  url: string;
  writeKey: string;
  /** CPU seconds the server has used since it started listening. */
  cpu(): number;
  stop(): Promise<number>;
}

/** `cdp ingest` on the embedded runtime in a process of its own, as the ingest benchmark runs it. */
async function startIngest(): Promise<Server> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'cdp-bench-import-'));
  const writeKey = `wk_bench_import_${process.pid}_${Date.now()}`;
  const env = {
    CDP_DATA_DIR: dataDir,
    HOST: '127.0.0.1',
    PORT: '0',
    CDP_WRITE_KEY: writeKey,
    LOG_LEVEL: 'warn',
    CDP_RATE_LIMIT_PER_SECOND: '1000000000',
  };
  const server = await spawnCdp(['ingest'], env, 120_000, profile);
  const pid = server.child.pid as number;
  const started = cpuOf(pid);
  return {
    url: server.url,
    writeKey,
    cpu: () => cpuOf(pid) - started,
    async stop() {
      const rssMb = memoryOf(server.child.pid as number, 'VmHWM');
      server.child.kill('SIGTERM');
      await server.exited;
      rmSync(dataDir, { recursive: true, force: true });
      return Math.round(rssMb);
    },
  };
}

interface Measured {
  name: string;
  seconds: number;
  rowsPerSecond: number;
  clientPeakMb: number | null;
  /** Client RSS at a quarter, half, three quarters and the end of the run. */
  clientRssMb: number[] | null;
  serverPeakMb: number;
  /** CPU µs per row: the client's (the importer's includes its start) and the server's. */
  clientCpuUs: number;
  serverCpuUs: number;
}

/** The same rows as plain /v1/batch requests: messages built in a loop, no file, no parsing, no mapping, no state. */
async function baseline(): Promise<Measured> {
  const server = await startIngest();
  const authorization = basicAuth(server.writeKey);
  const started = performance.now();
  const clientCpu = process.cpuUsage();
  let next = 0;
  const worker = async () => {
    while (next < rows) {
      const from = next;
      next = Math.min(rows, next + batchRows);
      const batch: string[] = [];
      for (let i = from; i < next; i += 1) {
        const c = customer(i);
        batch.push(
          JSON.stringify({
            type: 'identify',
            messageId: `baseline-${i}`,
            userId: c.userId,
            traits: { name: c.name, email: c.email, phone: c.phone, points: c.points, address: c.address },
          }),
        );
      }
      const response = await fetch(`${server.url}/v1/batch`, {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/json' },
        body: `{"batch":[${batch.join(',')}]}`,
      });
      if (!response.ok) throw new Error(`baseline batch refused: ${response.status} ${await response.text()}`);
      await response.body?.cancel();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  const { user, system } = process.cpuUsage(clientCpu);
  const serverCpu = server.cpu();
  return {
    name: `plain batches (${batchRows} rows, ${concurrency} in flight)`,
    seconds,
    rowsPerSecond: Math.round(rows / seconds),
    clientPeakMb: null,
    clientRssMb: null,
    clientCpuUs: (user + system) / rows,
    serverCpuUs: (serverCpu * 1e6) / rows,
    serverPeakMb: await server.stop(),
  };
}

/** `cdp import` as a user runs it, in its own process, its memory sampled from /proc every 200 ms. */
async function importer(file: string, extra: string[]): Promise<Measured> {
  const server = await startIngest();
  const args = [
    'import',
    file,
    '--country',
    'VN',
    '--column',
    'Mã KH=userId',
    '--column',
    'Họ tên=name',
    '--column',
    'Số điện thoại=phone',
    '--column',
    'Email=email',
    '--column',
    'Điểm=points:number',
    '--column',
    'Địa chỉ=address',
  ];
  const child = spawn(
    process.execPath,
    [
      ...profile,
      cdpBin,
      ...args,
      '--restart',
      '--batch',
      String(batchRows),
      '--concurrency',
      String(concurrency),
      '--url',
      server.url,
      '--write-key',
      server.writeKey,
      ...extra,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => progress(chunk.toString().trimEnd()));
  const samples: Array<{ at: number; rss: number }> = [];
  let peak = 0;
  let clientCpu = 0;
  const started = performance.now();
  // Sampled: what the importer uses in its last 200 ms is not counted.
  const timer = setInterval(() => {
    clientCpu = cpuOf(child.pid as number) || clientCpu;
    const rss = memoryOf(child.pid as number, 'VmRSS');
    if (Number.isFinite(rss)) samples.push({ at: performance.now() - started, rss });
    peak = Math.max(peak, memoryOf(child.pid as number, 'VmHWM') || 0);
  }, 200);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearInterval(timer);
  const serverCpu = server.cpu();
  if (code !== 0) throw new Error(`cdp import exited ${code}: ${stdout}`);
  // The command's own time: from its start to its summary, after the runtime has loaded.
  const match = /(\d+) this run in ([\d.]+) s/.exec(stdout);
  if (!match || Number(match[1]) !== rows) throw new Error(`cdp import did not import ${rows} rows: ${stdout}`);
  const seconds = Number(match[2]);
  const total = samples.at(-1)?.at ?? 0;
  const at = (share: number) => Math.round(samples.find((sample) => sample.at >= total * share)?.rss ?? Number.NaN);
  return {
    name: `cdp import${extra.length ? ` ${extra.join(' ')}` : ''}`,
    seconds,
    rowsPerSecond: Math.round(rows / seconds),
    clientPeakMb: Math.round(peak),
    clientRssMb: [at(0.25), at(0.5), at(0.75), at(1)],
    clientCpuUs: (clientCpu * 1e6) / rows,
    serverCpuUs: (serverCpu * 1e6) / rows,
    serverPeakMb: await server.stop(),
  };
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'cdp-bench-import-file-'));
try {
  const file = path.join(dir, 'customers.csv');
  progress(`import bench: writing ${rows} rows to ${file}`);
  await writeCsv(file);
  const megabytes = statSync(file).size / 1024 / 1024;
  progress(`import bench: ${megabytes.toFixed(0)} MB; the baseline first`);
  const results = [await baseline()];
  progress('import bench: cdp import');
  results.push(await importer(file, []));
  progress('import bench: cdp import --gzip');
  results.push(await importer(file, ['--gzip']));
  const plain = results[0] as Measured;

  out(
    `\nimport benchmark: ${rows} customer rows (${megabytes.toFixed(0)} MB CSV) into \`cdp ingest\` on the embedded runtime, ${os.cpus().length} cores, Node ${process.version}`,
  );
  out(
    '| run | seconds | rows/s | vs plain batches | client CPU µs/row | server CPU µs/row | client peak RSS MB | client RSS at 25/50/75/100% MB | server peak RSS MB |',
  );
  out('|---|---|---|---|---|---|---|---|---|');
  for (const result of results) {
    const rss = result.clientRssMb ? result.clientRssMb.join(' / ') : '—';
    out(
      `| ${result.name} | ${result.seconds.toFixed(1)} | ${result.rowsPerSecond} | ${Math.round((result.rowsPerSecond / plain.rowsPerSecond) * 100)}% | ${result.clientCpuUs.toFixed(1)} | ${result.serverCpuUs.toFixed(1)} | ${result.clientPeakMb ?? '—'} | ${rss} | ${result.serverPeakMb} |`,
    );
  }
  out('\ntarget: cdp import >= 50k rows/s, its memory flat over the run');
} finally {
  rmSync(dir, { recursive: true, force: true });
}
