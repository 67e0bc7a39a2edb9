// One partition of the embedded log: an append-only segment file with group-committed, fsync'd appends.
import { EventEmitter } from 'node:events';
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import type { Logger } from 'pino';
import { checkFrame, decodeFrame, encodeFrame, frameLength, type DecodedFrame, type FrameInput } from './frame';
import { scanSegment } from './scan';

/** Every INDEX_STRIDE-th offset's file position is kept in memory; a seek reads forward from there. */
export const INDEX_STRIDE = 64;
const READ_CHUNK_BYTES = 256 * 1024;

export interface PartitionCursor {
  /** The next offset to read. */
  offset: number;
  /** Its file position, when known (a consumer keeps it between batches so it never seeks). */
  position?: number;
}

export interface Partition {
  readonly topic: string;
  readonly index: number;
  /** One past the last durable offset: everything below it is fsync'd and readable. */
  endOffset(): number;
  /** Set once a failed fsync makes the file's state unknowable; the partition then refuses writes. */
  failure(): Error | null;
  /** Resolves when every record is written and fsync'd. Calls within one tick share one write and one fsync. */
  append(records: FrameInput[]): Promise<void>;
  read(from: PartitionCursor, maxRecords: number): Promise<{ records: DecodedFrame[]; next: Required<PartitionCursor> }>;
  /** Resolves when endOffset() > offset, after timeoutMs, or on abort, whichever is first. */
  waitForAppend(offset: number, timeoutMs: number, signal: AbortSignal): Promise<void>;
  /** Refuses new appends, lets queued ones finish, closes the file. */
  close(): Promise<void>;
}

interface PendingAppend {
  records: FrameInput[];
  timestamp: number;
  resolve: () => void;
  reject: (error: Error) => void;
}

export async function openPartition(options: { file: string; topic: string; index: number; logger: Logger }): Promise<Partition> {
  const { topic, index } = options;
  const logger = options.logger.child({ topic, partition: index });
  const handle: FileHandle = await open(options.file, constants.O_RDWR | constants.O_CREAT, 0o644);
  let scanned;
  try {
    scanned = await scanSegment(handle, INDEX_STRIDE, logger);
  } catch (error) {
    await handle.close();
    throw error;
  }
  const positions = scanned.positions;
  let fileSize = scanned.size;
  let nextOffset = scanned.nextOffset;
  let broken: Error | null = null;
  let closed = false;
  const queue: PendingAppend[] = [];
  let flushScheduled = false;
  let flushing: Promise<void> | null = null;
  const appended = new EventEmitter();
  appended.setMaxListeners(0);

  async function writeGroup(group: PendingAppend[]): Promise<void> {
    let total = 0;
    for (const item of group) for (const record of item.records) total += frameLength(record);
    const buffer = Buffer.allocUnsafe(total);
    const newPositions: number[] = [];
    let at = 0;
    let offset = nextOffset;
    for (const item of group) {
      for (const record of item.records) {
        if (offset % INDEX_STRIDE === 0) newPositions.push(fileSize + at);
        at = encodeFrame(buffer, at, record, offset, item.timestamp);
        offset++;
      }
    }
    try {
      for (let written = 0; written < total; ) {
        const { bytesWritten } = await handle.write(buffer, written, total - written, fileSize + written);
        written += bytesWritten;
      }
    } catch (error) {
      // A failed write (ENOSPC, EIO) may leave part of the group on disk: cut it off so the next group starts clean.
      logger.error({ err: error }, 'append failed; truncating the partial write');
      await handle.truncate(fileSize).catch((truncateError: unknown) => {
        broken = new Error(`partition ${topic}/${index} cannot be repaired after a failed write`, { cause: truncateError });
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
      const group = queue.splice(0);
      if (broken) {
        for (const item of group) item.reject(broken);
        continue;
      }
      try {
        await writeGroup(group);
      } catch (error) {
        const failure = error instanceof Error ? error : new Error(String(error));
        for (const item of group) item.reject(failure);
        continue;
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

  /** File position of the nearest indexed offset at or below `offset`. */
  function seek(offset: number): Required<PartitionCursor> {
    const slot = Math.floor(offset / INDEX_STRIDE);
    const position = positions[slot];
    if (position === undefined) return { offset: nextOffset, position: fileSize };
    return { offset: slot * INDEX_STRIDE, position };
  }

  return {
    topic,
    index,
    endOffset: () => nextOffset,
    failure: () => broken,

    append(records) {
      if (closed) return Promise.reject(new Error(`partition ${topic}/${index} is closed`));
      if (broken) return Promise.reject(broken);
      return new Promise<void>((resolve, reject) => {
        queue.push({ records, timestamp: Date.now(), resolve, reject });
        scheduleFlush();
      });
    },

    async read(from, maxRecords) {
      const wanted = Math.min(from.offset, nextOffset);
      let cursor = from.position === undefined ? seek(wanted) : { offset: from.offset, position: from.position };
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
          const reason = check.status === 'corrupt' ? check.reason : check.status === 'ok' ? `offset ${check.offset}` : 'short read';
          throw new Error(`partition ${topic}/${index}: bad frame at byte ${cursor.position}, expected offset ${cursor.offset} (${reason})`);
        }
        if (cursor.offset >= wanted) records.push(decodeFrame(chunk, cursor.position - chunkStart));
        cursor = { offset: cursor.offset + 1, position: cursor.position + check.length };
      }
      return { records, next: cursor };
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
      while (flushScheduled || flushing) await (flushing ?? new Promise((resolve) => setImmediate(resolve)));
      await handle.close();
    },
  };
}
