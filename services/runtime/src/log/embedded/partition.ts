// One partition of the embedded log: an append-only segment file with group-committed, fsync'd appends, whose
// oldest records retention removes by copying the rest to a file that replaces it.
import { EventEmitter } from 'node:events';
import { constants } from 'node:fs';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { fsyncDir } from './files';
import { checkFrame, decodeFrame, encodeFrame, type DecodedFrame, type PreparedFrame } from './frame';
import { resumeSegment, scanSegment } from './scan';
import { takeCleanIndex, writeCleanIndex } from './clean-index';

/** Every INDEX_STRIDE-th offset's file position is kept in memory; a seek reads forward from there. */
export const INDEX_STRIDE = 64;
const READ_CHUNK_BYTES = 256 * 1024;

export interface PartitionCursor {
  /** The next offset to read. */
  offset: number;
  /** Its file position, when known (a consumer keeps it between batches so it never seeks). */
  position?: number;
  /** The file the position is in: retention replaces the file, and a position in an older one is not used. */
  generation?: number;
}

export interface Dropped {
  records: number;
  bytes: number;
}

export interface Partition {
  readonly topic: string;
  readonly index: number;
  /** One past the last durable offset: everything below it is fsync'd and readable. */
  endOffset(): number;
  /** The first offset still held: the ones below it were removed by retention. A read from below starts here. */
  startOffset(): number;
  /**
   * Removes the records appended before `cutoffMs`, a whole index stride at a time and never the last one, when that
   * frees at least `minBytes`: the rest is copied to a new file that then replaces this one (renamed over it, so a
   * crash leaves one or the other). Appends and reads wait only while the tail appended during the copy is copied.
   */
  dropBefore(cutoffMs: number, minBytes: number): Promise<Dropped>;
  /** Set once a failed fsync makes the file's state unknowable; the partition then refuses writes. */
  failure(): Error | null;
  /** Resolves when every record is written and fsync'd. Calls within one tick share one write and one fsync. */
  append(records: PreparedFrame[]): Promise<void>;
  read(
    from: PartitionCursor,
    maxRecords: number,
  ): Promise<{ records: DecodedFrame[]; next: Required<PartitionCursor> }>;
  /** Resolves when endOffset() > offset, after timeoutMs, or on abort, whichever is first. */
  waitForAppend(offset: number, timeoutMs: number, signal: AbortSignal): Promise<void>;
  /** Refuses new appends, lets queued ones finish, closes the file. */
  close(): Promise<void>;
}

interface PendingAppend {
  records: PreparedFrame[];
  timestamp: number;
  resolve: () => void;
  reject: (error: Error) => void;
}

export async function openPartition(options: {
  file: string;
  topic: string;
  index: number;
  logger: Logger;
}): Promise<Partition> {
  const { topic, index } = options;
  const logger = options.logger.child({ topic, partition: index });
  const compactFile = `${options.file}.compact`;
  // A copy that a crash interrupted before it replaced the file: the file is whole, the copy is not needed.
  await rm(compactFile, { force: true });
  let handle: FileHandle = await open(options.file, constants.O_RDWR | constants.O_CREAT, 0o644);
  let scanned;
  try {
    // After a clean close its index spares the scan; it is taken away first, so a crash from here on leaves none.
    const saved = await takeCleanIndex(options.file);
    scanned = saved && (await resumeSegment(handle, saved, INDEX_STRIDE));
    if (saved && !scanned) logger.warn('the clean-close index does not match the segment file; scanning it');
    scanned ??= await scanSegment(handle, options.file, INDEX_STRIDE, logger);
  } catch (error) {
    await handle.close();
    throw error;
  }
  let positions = scanned.positions;
  let baseOffset = scanned.baseOffset;
  let generation = 0;
  let fileSize = scanned.size;
  let nextOffset = scanned.nextOffset;
  let broken: Error | null = null;
  let closed = false;
  const queue: PendingAppend[] = [];
  let flushScheduled = false;
  let flushing: Promise<void> | null = null;
  // While retention swaps the file: appends and reads wait for it; it waits for the write and reads in progress.
  let swapping: Promise<void> | null = null;
  let writing: Promise<void> | null = null;
  let reads = 0;
  let readsDone: (() => void) | null = null;
  let dropping: Promise<Dropped> | null = null;
  const appended = new EventEmitter();
  appended.setMaxListeners(0);

  async function writeGroup(group: PendingAppend[]): Promise<void> {
    let total = 0;
    for (const item of group) for (const record of item.records) total += record.length;
    const buffer = Buffer.allocUnsafe(total);
    const newPositions: number[] = [];
    let at = 0;
    let offset = nextOffset;
    for (const item of group) {
      for (const record of item.records) {
        if ((offset - baseOffset) % INDEX_STRIDE === 0) newPositions.push(fileSize + at);
        at = encodeFrame(buffer, at, record, offset, item.timestamp);
        offset++;
      }
    }
    try {
      for (let written = 0; written < total;) {
        const { bytesWritten } = await handle.write(buffer, written, total - written, fileSize + written);
        written += bytesWritten;
      }
    } catch (error) {
      // A failed write (ENOSPC, EIO) may leave part of the group on disk: cut it off so the next group starts clean.
      logger.error({ err: error }, 'append failed; truncating the partial write');
      await handle.truncate(fileSize).catch((truncateError: unknown) => {
        broken = new Error(`partition ${topic}/${index} cannot be repaired after a failed write`, {
          cause: truncateError,
        });
      });
      throw error;
    }
    try {
      await handle.datasync();
    } catch (error) {
      // After a failed fsync Linux may have dropped the dirty pages; retrying could falsely succeed, so stop writing.
      broken = new Error(`partition ${topic}/${index} failed to fsync; reopen the log to recover`, { cause: error });
      logger.error({ err: error }, 'fsync failed; the partition refuses further writes');
      throw error;
    }
    fileSize += total;
    nextOffset = offset;
    for (const position of newPositions) positions.push(position);
  }

  async function flushLoop(): Promise<void> {
    while (queue.length > 0) {
      while (swapping) await swapping;
      const group = queue.splice(0);
      if (broken) {
        for (const item of group) item.reject(broken);
        continue;
      }
      try {
        writing = writeGroup(group);
        await writing;
      } catch (error) {
        const failure = error instanceof Error ? error : new Error(String(error));
        for (const item of group) item.reject(failure);
        continue;
      } finally {
        writing = null;
      }
      for (const item of group) item.resolve();
      appended.emit('append');
    }
  }

  function scheduleFlush(): void {
    if (flushScheduled || flushing) return;
    flushScheduled = true;
    // setImmediate rather than a microtask: appends from every callback of this event-loop turn join the group.
    setImmediate(() => {
      flushScheduled = false;
      flushing = flushLoop().finally(() => {
        flushing = null;
        // A producer resumed by the last resolve() may have appended before this callback ran.
        if (queue.length > 0) scheduleFlush();
      });
    });
  }

  /** File position of the nearest indexed offset at or below `offset` (at or above the start). */
  function seek(offset: number): Required<PartitionCursor> {
    const slot = Math.floor((Math.max(offset, baseOffset) - baseOffset) / INDEX_STRIDE);
    const position = positions[slot];
    if (position === undefined) return { offset: nextOffset, position: fileSize, generation };
    return { offset: baseOffset + slot * INDEX_STRIDE, position, generation };
  }

  /** The append time of the record at a file position. */
  async function appendTimeAt(position: number): Promise<number> {
    const header = Buffer.allocUnsafe(25);
    await handle.read(header, 0, header.length, position);
    return Number(header.readBigUInt64BE(17));
  }

  /** Copies bytes [from, to) of the current file to `target` at `at`. */
  async function copyRange(target: FileHandle, from: number, to: number, at: number): Promise<void> {
    const chunk = Buffer.allocUnsafe(Math.min(READ_CHUNK_BYTES * 4, Math.max(1, to - from)));
    for (let position = from; position < to;) {
      const { bytesRead } = await handle.read(chunk, 0, Math.min(chunk.length, to - position), position);
      if (bytesRead === 0)
        throw new Error(`partition ${topic}/${index}: the file ended at byte ${position} while copying to ${to}`);
      for (let written = 0; written < bytesRead;)
        written += (await target.write(chunk, written, bytesRead - written, at + position - from + written))
          .bytesWritten;
      position += bytesRead;
    }
  }

  async function drop(cutoffMs: number, minBytes: number): Promise<Dropped> {
    // The first index stride whose first record is not expired; the stride before it may still hold unexpired ones.
    let low = 0;
    let high = positions.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if ((await appendTimeAt(positions[middle] as number)) < cutoffMs) low = middle + 1;
      else high = middle;
    }
    const keptSlot = Math.max(0, low - 1);
    const cut = positions[keptSlot];
    // The kept records are copied each time: wait until the expired part is at least half their size, so a byte is
    // copied about twice over its life, not once per removal.
    if (keptSlot === 0 || cut === undefined || cut < Math.max(minBytes, (fileSize - cut) / 2) || closed || broken)
      return { records: 0, bytes: 0 };

    const target = await open(compactFile, constants.O_RDWR | constants.O_CREAT | constants.O_TRUNC, 0o644);
    let replaced = false;
    try {
      // Everything durable now is copied while appends and reads go on: the file only grows past it.
      const copied = fileSize;
      await copyRange(target, cut, copied, 0);
      let release!: () => void;
      swapping = new Promise<void>((resolve) => (release = resolve));
      try {
        while (writing) await writing.catch(() => undefined);
        if (reads > 0) await new Promise<void>((resolve) => (readsDone = resolve));
        readsDone = null;
        await copyRange(target, copied, fileSize, copied - cut);
        await target.datasync();
        await target.close();
        await rename(compactFile, options.file);
        replaced = true;
        await fsyncDir(path.dirname(options.file));
        const old = handle;
        handle = await open(options.file, constants.O_RDWR, 0o644);
        await old.close();
        const dropped = { records: keptSlot * INDEX_STRIDE, bytes: cut };
        baseOffset += dropped.records;
        positions = positions.slice(keptSlot).map((position) => position - cut);
        fileSize -= cut;
        generation++;
        logger.info(
          { ...dropped, startOffset: baseOffset, keptBytes: fileSize },
          'retention removed the oldest records',
        );
        return dropped;
      } finally {
        swapping = null;
        release();
      }
    } catch (error) {
      if (!replaced) {
        await target.close().catch(() => undefined);
        await rm(compactFile, { force: true });
      } else {
        // Renamed but not reopened: the old handle reads a file no longer in the directory, and appends would go to
        // it. Stop writing; reopening the log finds the new file whole.
        broken = new Error(`partition ${topic}/${index} could not reopen its file after retention; reopen the log`, {
          cause: error,
        });
      }
      throw error;
    }
  }

  async function readFrom(
    from: PartitionCursor,
    maxRecords: number,
  ): Promise<{ records: DecodedFrame[]; next: Required<PartitionCursor> }> {
    // Records below the start went with retention: a read from there starts at the first one held.
    const wanted = Math.max(baseOffset, Math.min(from.offset, nextOffset));
    const positionHolds = from.position !== undefined && from.generation === generation && from.offset >= baseOffset;
    let cursor: Required<PartitionCursor> = positionHolds
      ? { offset: from.offset, position: from.position as number, generation }
      : seek(wanted);
    const limit = fileSize;
    const records: DecodedFrame[] = [];
    let chunk = Buffer.alloc(0);
    let chunkStart = cursor.position;
    while (records.length < maxRecords && cursor.position < limit) {
      let check = checkFrame(chunk, cursor.position - chunkStart, chunk.length);
      if (check.status === 'incomplete') {
        // A fresh buffer per chunk: records already returned are views into the previous one.
        const length = Math.min(limit - cursor.position, Math.max(READ_CHUNK_BYTES, check.needed));
        chunk = Buffer.allocUnsafe(length);
        chunkStart = cursor.position;
        const { bytesRead } = await handle.read(chunk, 0, length, chunkStart);
        chunk = chunk.subarray(0, bytesRead);
        check = checkFrame(chunk, 0, chunk.length);
      }
      if (check.status !== 'ok' || check.offset !== cursor.offset) {
        const reason =
          check.status === 'corrupt' ? check.reason : check.status === 'ok' ? `offset ${check.offset}` : 'short read';
        throw new Error(
          `partition ${topic}/${index}: bad frame at byte ${cursor.position}, expected offset ${cursor.offset} (${reason})`,
        );
      }
      if (cursor.offset >= wanted) records.push(decodeFrame(chunk, cursor.position - chunkStart));
      cursor = { offset: cursor.offset + 1, position: cursor.position + check.length, generation };
    }
    return { records, next: cursor };
  }

  return {
    topic,
    index,
    endOffset: () => nextOffset,
    startOffset: () => baseOffset,
    failure: () => broken,

    append(records) {
      if (closed) return Promise.reject(new Error(`partition ${topic}/${index} is closed`));
      if (broken) return Promise.reject(broken);
      return new Promise<void>((resolve, reject) => {
        queue.push({ records, timestamp: Date.now(), resolve, reject });
        scheduleFlush();
      });
    },

    dropBefore(cutoffMs, minBytes) {
      // One at a time; a call while one runs gets its answer.
      dropping ??= drop(cutoffMs, minBytes).finally(() => {
        dropping = null;
      });
      return dropping;
    },

    async read(from, maxRecords) {
      while (swapping) await swapping;
      reads++;
      try {
        return await readFrom(from, maxRecords);
      } finally {
        reads--;
        if (reads === 0) readsDone?.();
      }
    },

    waitForAppend(offset, timeoutMs, signal) {
      if (nextOffset > offset || signal.aborted) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          appended.off('append', onAppend);
          signal.removeEventListener('abort', done);
          resolve();
        };
        const onAppend = (): void => {
          if (nextOffset > offset) done();
        };
        const timer = setTimeout(done, timeoutMs);
        appended.on('append', onAppend);
        signal.addEventListener('abort', done, { once: true });
      });
    },

    async close() {
      if (closed) return;
      closed = true;
      await dropping?.catch(() => undefined);
      while (flushScheduled || flushing) await (flushing ?? new Promise((resolve) => setImmediate(resolve)));
      // Every append is fsync'd by now: the index lets the next open skip the scan. Without it the scan runs.
      if (!broken)
        await writeCleanIndex(options.file, { baseOffset, positions, nextOffset, size: fileSize }).catch(
          (error: unknown) => logger.warn({ err: error }, 'could not write the clean-close index; the next open scans'),
        );
      await handle.close();
    },
  };
}
