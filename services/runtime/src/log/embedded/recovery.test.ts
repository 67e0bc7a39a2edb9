// Recovery of the embedded log: torn tails after a crash, corruption in the middle of a segment, the directory lock,
// and a real SIGKILL mid-produce.
import { spawn } from 'node:child_process';
import {
  appendFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../poll';
import { openEmbeddedLog } from '../embedded';
import type { ConsumedRecord, EventLog } from '../types';

const dirs: string[] = [];
const openLogs: EventLog[] = [];

function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cdp-embedded-recovery-'));
  dirs.push(dir);
  return dir;
}

/** A logger whose warnings the test can read. */
function capturingLogger(): { logger: pino.Logger; lines: { level: number; msg: string }[] } {
  const lines: { level: number; msg: string }[] = [];
  const logger = pino(
    { level: 'warn' },
    { write: (line: string) => void lines.push(JSON.parse(line) as { level: number; msg: string }) },
  );
  return { logger, lines };
}

async function open(dir: string, logger = pino({ level: 'silent' })): Promise<EventLog> {
  const log = await openEmbeddedLog({ dir, logger, retryBackoff: { initialMs: 10, maxMs: 50 } });
  openLogs.push(log);
  await log.ensureTopics([{ name: 'events', partitions: 1 }]);
  return log;
}

async function readAll(log: EventLog, expected: number, groupId = 'check'): Promise<ConsumedRecord[]> {
  const records: ConsumedRecord[] = [];
  const consumer = await log.consume({
    groupId,
    topics: ['events'],
    handleBatch: async (batch) => void records.push(...batch.records),
  });
  await waitFor(() => records.length >= expected, { what: `${expected} records` });
  await consumer.close();
  return records;
}

const record = (id: string) => ({ key: 'k', value: Buffer.from(id) });
const segment = (dir: string): string => path.join(dir, 'topics', 'events', 'partition-0.log');

afterEach(async () => {
  for (const log of openLogs.splice(0)) await log.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('embedded log recovery', () => {
  const damages: [string, (file: string) => number][] = [
    [
      'garbage appended after the last frame',
      (file) => (appendFileSync(file, Buffer.from('\x00\x00\x01\x00garbage-bytes-from-a-torn-write')), 20),
    ],
    ['the last frame cut short', (file) => (truncateSync(file, statSync(file).size - 5), 19)],
    [
      'a flipped byte in the last frame',
      (file) => {
        const bytes = readFileSync(file);
        bytes[bytes.length - 2] = (bytes[bytes.length - 2] as number) ^ 0xff;
        writeFileSync(file, bytes);
        return 19;
      },
    ],
  ];

  for (const [damage, apply] of damages) {
    it(`cuts off a torn tail (${damage}) on reopen and keeps the intact records`, async () => {
      const dir = tempDir();
      const first = await open(dir);
      await first.produce(
        'events',
        Array.from({ length: 20 }, (_, i) => record(`r${i}`)),
      );
      await first.close();
      const intact = apply(segment(dir));

      const { logger, lines } = capturingLogger();
      const log = await open(dir, logger);
      expect(lines.some((line) => line.level === 40 && /torn tail/.test(line.msg))).toBe(true);
      await log.produce('events', [record('after-repair')]);
      const records = await readAll(log, intact + 1);
      expect(records.map((r) => r.value.toString())).toEqual([
        ...Array.from({ length: intact }, (_, i) => `r${i}`),
        'after-repair',
      ]);
      expect(records.map((r) => r.offset)).toEqual(records.map((_, i) => String(i)));
    });
  }

  it('resumes a group at its committed offset after a torn tail is cut off', async () => {
    const dir = tempDir();
    const first = await open(dir);
    await first.produce(
      'events',
      Array.from({ length: 10 }, (_, i) => record(`r${i}`)),
    );
    await readAll(first, 10, 'resumer');
    await first.produce(
      'events',
      Array.from({ length: 10 }, (_, i) => record(`r${10 + i}`)),
    );
    await first.close();
    truncateSync(segment(dir), statSync(segment(dir)).size - 5);

    const log = await open(dir);
    await log.produce('events', [record('after-repair')]);
    const records = await readAll(log, 10, 'resumer');
    expect(records.map((r) => r.value.toString())).toEqual([
      ...Array.from({ length: 9 }, (_, i) => `r${10 + i}`),
      'after-repair',
    ]);
    expect(records[0]?.offset).toBe('10');
  });

  // Twenty frames of equal length (values r00..r19): frame i starts at i * frame length.
  const corruptions: [string, (bytes: Buffer, frameStart: number) => void][] = [
    ['a flipped byte in a frame', (bytes, at) => void (bytes[at + 30] = (bytes[at + 30] as number) ^ 0xff)],
    ['a zeroed stretch over a frame header', (bytes, at) => void bytes.fill(0, at, at + 12)],
  ];

  for (const [damage, corrupt] of corruptions) {
    it(`refuses to open a segment with ${damage} in the middle, deletes nothing and quarantines a copy`, async () => {
      const dir = tempDir();
      const first = await open(dir);
      const value = (i: number) => `r${String(i).padStart(2, '0')}`;
      await first.produce(
        'events',
        Array.from({ length: 10 }, (_, i) => record(value(i))),
      );
      await readAll(first, 10, 'resumer');
      await first.produce(
        'events',
        Array.from({ length: 10 }, (_, i) => record(value(10 + i))),
      );
      await first.close();
      const file = segment(dir);
      const groupFile = path.join(dir, 'groups', 'group-resumer.json');
      const committed = readFileSync(groupFile, 'utf8');
      const intact = readFileSync(file);
      const frame = intact.length / 20;
      const damaged = Buffer.from(intact);
      corrupt(damaged, 14 * frame);
      writeFileSync(file, damaged);

      const attempt = () => openEmbeddedLog({ dir, logger: pino({ level: 'silent' }) });
      const refusal = new RegExp(
        `segment ${file} is corrupt at byte ${14 * frame} \\(offset 14: .*intact records follow`,
      );
      await expect(attempt()).rejects.toThrow(refusal);
      await expect(attempt()).rejects.toMatchObject({ code: 'LOG_SEGMENT_CORRUPT', position: 14 * frame });
      expect(readFileSync(file).equals(damaged)).toBe(true);
      const copies = readdirSync(path.dirname(file)).filter((name) => name.startsWith('partition-0.log.corrupt-'));
      expect(copies).toHaveLength(1);
      expect(readFileSync(path.join(path.dirname(file), copies[0] as string)).equals(damaged)).toBe(true);
      expect(readFileSync(groupFile, 'utf8')).toBe(committed);

      // Restored from a backup, the log opens and the group goes on from where it was, past nothing.
      writeFileSync(file, intact);
      const log = await open(dir);
      const records = await readAll(log, 10, 'resumer');
      expect(records.map((r) => r.value.toString())).toEqual(Array.from({ length: 10 }, (_, i) => value(10 + i)));
    });
  }

  // Two hundred frames of equal length (values r000..r199): frame i starts at i * frame length.
  const value3 = (i: number) => `r${String(i).padStart(3, '0')}`;
  const indexOf = (dir: string) => `${segment(dir)}.index`;
  async function closedWith200(dir: string): Promise<void> {
    const first = await open(dir);
    await first.produce(
      'events',
      Array.from({ length: 200 }, (_, i) => record(value3(i))),
    );
    await first.close();
  }

  it('opens from the index a clean close left, removes it while open, and goes on at the next offset', async () => {
    const dir = tempDir();
    await closedWith200(dir);
    expect(existsSync(indexOf(dir))).toBe(true);

    const { logger, lines } = capturingLogger();
    const log = await open(dir, logger);
    expect(existsSync(indexOf(dir))).toBe(false);
    await log.produce('events', [record('after-reopen')]);
    const records = await readAll(log, 201);
    expect(records.map((r) => r.value.toString())).toEqual([
      ...Array.from({ length: 200 }, (_, i) => value3(i)),
      'after-reopen',
    ]);
    expect(records.map((r) => r.offset)).toEqual(records.map((_, i) => String(i)));
    expect(lines).toEqual([]);
    await log.close();
    expect(existsSync(indexOf(dir))).toBe(true);
  });

  const mismatches: [string, (dir: string, staleIndex: Buffer) => void][] = [
    [
      'an index older than the file (records appended after it was written)',
      (dir, stale) => writeFileSync(indexOf(dir), stale),
    ],
    [
      'an index with a flipped byte',
      (dir) => {
        const bytes = readFileSync(indexOf(dir));
        bytes[bytes.length - 3] = (bytes[bytes.length - 3] as number) ^ 0xff;
        writeFileSync(indexOf(dir), bytes);
      },
    ],
    ['an index cut short', (dir) => truncateSync(indexOf(dir), statSync(indexOf(dir)).size - 8)],
  ];

  for (const [mismatch, apply] of mismatches) {
    it(`scans the whole segment instead when it finds ${mismatch}`, async () => {
      const dir = tempDir();
      await closedWith200(dir);
      const stale = readFileSync(indexOf(dir));
      const second = await open(dir);
      await second.produce(
        'events',
        Array.from({ length: 70 }, (_, i) => record(value3(200 + i))),
      );
      await second.close();
      apply(dir, stale);

      const { logger, lines } = capturingLogger();
      const log = await open(dir, logger);
      const records = await readAll(log, 270);
      expect(records.map((r) => r.value.toString())).toEqual(Array.from({ length: 270 }, (_, i) => value3(i)));
      expect(records.map((r) => r.offset)).toEqual(records.map((_, i) => String(i)));
      const expectedWarnings = mismatch.startsWith('an index older') ? 1 : 0;
      expect(lines.filter((line) => /clean-close index does not match/.test(line.msg))).toHaveLength(expectedWarnings);
    });
  }

  it('trusts a clean close: damage done while the log was closed fails the read that reaches it, naming the byte', async () => {
    const dir = tempDir();
    await closedWith200(dir);
    const file = segment(dir);
    const bytes = readFileSync(file);
    const frame = bytes.length / 200;
    bytes[100 * frame + 30] = (bytes[100 * frame + 30] as number) ^ 0xff;
    writeFileSync(file, bytes);

    const lines: { msg: string; err?: { message?: string } }[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(JSON.parse(line) as never) });
    const log = await open(dir, logger);
    const values: string[] = [];
    const consumer = await log.consume({
      groupId: 'reader',
      topics: ['events'],
      maxBatchSize: 10,
      handleBatch: async (batch) => void values.push(...batch.records.map((r) => r.value.toString())),
    });
    await waitFor(() => lines.some((line) => line.err?.message?.includes(`bad frame at byte ${100 * frame}`)), {
      what: 'the read that reaches the damaged frame to fail',
    });
    await consumer.close();
    // Everything before the damage was delivered, nothing at or after it: the group waits there, loudly.
    expect(values).toEqual(Array.from({ length: 100 }, (_, i) => value3(i)));
    expect(await log.committedOffsets('reader', 'events')).toEqual({ 0: '100' });
  });

  it('refuses a second open of a directory, in this process or while another live process holds it', async () => {
    const dir = tempDir();
    await open(dir);
    await expect(openEmbeddedLog({ dir, logger: pino({ level: 'silent' }) })).rejects.toThrow(
      /already open in this process/,
    );

    const other = tempDir();
    writeFileSync(path.join(other, 'LOCK'), `${process.ppid}\n`);
    await expect(openEmbeddedLog({ dir: other, logger: pino({ level: 'silent' }) })).rejects.toThrow(
      new RegExp(`locked by process ${process.ppid}`),
    );
  });

  it('takes over the lock of a process that is gone', async () => {
    const child = spawn(process.execPath, ['-e', '0']);
    const deadPid = await new Promise<number>((resolve) => child.on('exit', () => resolve(child.pid as number)));
    const dir = tempDir();
    writeFileSync(path.join(dir, 'LOCK'), `${deadPid}\n`);
    const { logger, lines } = capturingLogger();
    const log = await open(dir, logger);
    expect(await log.ready()).toBe(true);
    expect(lines.some((line) => /stale embedded log lock/.test(line.msg))).toBe(true);
    expect(readFileSync(path.join(dir, 'LOCK'), 'utf8').trim()).toBe(String(process.pid));
  });

  it(
    'keeps every acknowledged record when the producing process is killed with SIGKILL',
    { timeout: 60_000 },
    async () => {
      const dir = tempDir();
      const fixture = fileURLToPath(new URL('../embedded.crash-fixture.ts', import.meta.url));
      const child = spawn(process.execPath, ['--import', 'tsx', fixture, dir], {
        cwd: path.dirname(fixture),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const acknowledged: string[] = [];
      let stderr = '';
      let pending = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.stdout.on('data', (chunk: Buffer) => {
        const lines = (pending + chunk.toString()).split('\n');
        pending = lines.pop() ?? '';
        acknowledged.push(...lines.filter((line) => line !== ''));
      });
      const exited = new Promise<NodeJS.Signals | null>((resolve) =>
        child.on('exit', (_code, signal) => resolve(signal)),
      );
      let running = true;
      void exited.then(() => (running = false));

      await waitFor(() => acknowledged.length >= 2000 || !running, {
        timeoutMs: 40_000,
        what: '2000 acknowledged records',
      });
      expect(running, `the fixture exited early: ${stderr}`).toBe(true);
      child.kill('SIGKILL');
      expect(await exited).toBe('SIGKILL');
      const acked = [...acknowledged];
      // Killed, the process wrote no clean-close index: the open scans the segments.
      expect(existsSync(segment(dir) + '.index')).toBe(false);

      const log = await openEmbeddedLog({ dir, logger: pino({ level: 'silent' }) });
      openLogs.push(log);
      const seen = new Map<string, number>();
      const consumer = await log.consume({
        groupId: 'after-crash',
        topics: ['events'],
        handleBatch: async (batch) =>
          batch.records.forEach((r) => seen.set(r.value.toString(), (seen.get(r.value.toString()) ?? 0) + 1)),
      });
      await waitFor(() => acked.every((id) => seen.has(id)), { timeoutMs: 20_000, what: 'every acknowledged record' });
      await consumer.close();
      expect([...seen.values()].every((count) => count === 1)).toBe(true);
      await log.produce('events', [{ key: 'user-1', value: Buffer.from('after-crash') }]);
    },
  );
});
