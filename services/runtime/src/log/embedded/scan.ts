// Recovery of a segment file on open: rebuild the sparse offset index, cut off a torn tail, and refuse a segment
// whose damage has intact records after it.
import { copyFile, readdir, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { checkFrame, type FrameCheck } from './frame';

const SCAN_CHUNK_BYTES = 1024 * 1024;

export interface ScannedSegment {
  /** The offset of the file's first record: 0, or where retention left the partition's start. */
  baseOffset: number;
  /** File position of every stride-th offset (positions[i] is offset baseOffset + i * stride). */
  positions: number[];
  /** Offset the next appended record gets. */
  nextOffset: number;
  /** Bytes of intact frames, the file's length after any repair. */
  size: number;
}

/** A segment with a bad frame that intact frames follow: damage in the middle, not a torn write. */
export class SegmentCorruptError extends Error {
  readonly code = 'LOG_SEGMENT_CORRUPT';
  constructor(
    readonly file: string,
    /** Byte position of the first bad frame. */
    readonly position: number,
    /** The offset the bad frame should have held. */
    readonly offset: number,
    readonly reason: string,
    /** Byte position of the first intact frame after it. */
    readonly resumesAt: number,
    /** Where the untouched copy of the whole file is. */
    readonly quarantine: string,
  ) {
    super(
      `segment ${file} is corrupt at byte ${position} (offset ${offset}: ${reason}) and intact records follow from ` +
        `byte ${resumesAt}; the log refuses to open rather than drop them. Nothing was deleted; a copy of the file is ` +
        `at ${quarantine}. Restore the log directory from a backup, or accept losing the records from byte ` +
        `${position} on with \`truncate -s ${position} ${file}\` (see "Recovering a corrupt segment" in ` +
        `services/runtime/src/log/README.md)`,
    );
    this.name = 'SegmentCorruptError';
  }
}

/** Reads a file through one reusable buffer, refilling it when a look-up falls outside what it holds. */
function chunkReader(handle: FileHandle, fileSize: number) {
  let buffer = Buffer.alloc(0);
  let chunk = buffer;
  let chunkStart = 0;
  return {
    /** The frame check at `position`, reading more of the file when the chunk in hand ends inside the frame. */
    async check(position: number): Promise<FrameCheck> {
      if (position >= chunkStart && position <= chunkStart + chunk.length) {
        const check = checkFrame(chunk, position - chunkStart, chunk.length);
        if (check.status !== 'incomplete' || position + check.needed > fileSize) return check;
      }
      for (let length = Math.min(fileSize - position, SCAN_CHUNK_BYTES); ;) {
        if (buffer.length < length) buffer = Buffer.allocUnsafe(length);
        const { bytesRead } = await handle.read(buffer, 0, length, position);
        chunk = buffer.subarray(0, bytesRead);
        chunkStart = position;
        const check = checkFrame(chunk, 0, chunk.length);
        // A frame longer than one chunk: read it whole, once.
        if (check.status !== 'incomplete' || check.needed <= length || position + check.needed > fileSize) return check;
        length = check.needed;
      }
    },
  };
}

/**
 * The position of the first intact frame at or after `from`, or null when none is left: then the damage is a torn
 * tail. Searches byte by byte, which is slow only over a long damaged stretch, and only on this recovery path.
 */
async function findIntactFrame(handle: FileHandle, from: number, fileSize: number): Promise<number | null> {
  const reader = chunkReader(handle, fileSize);
  for (let position = from; position + 4 <= fileSize; position++) {
    const check = await reader.check(position);
    if (check.status === 'ok') return position;
  }
  return null;
}

/**
 * Copies the file aside as `<file>.corrupt-<time>` before anything else touches it, unless an earlier open already
 * left a copy of the same size (a process restarted in a loop would otherwise fill the disk with copies).
 */
async function quarantine(file: string, fileSize: number): Promise<string> {
  const dir = path.dirname(file);
  const prefix = `${path.basename(file)}.corrupt-`;
  for (const name of (await readdir(dir)).filter((entry) => entry.startsWith(prefix)).sort()) {
    const copy = path.join(dir, name);
    if ((await stat(copy)).size === fileSize) return copy;
  }
  const copy = path.join(dir, `${prefix}${new Date().toISOString().replace(/[:.]/g, '-')}`);
  await copyFile(file, copy);
  return copy;
}

/**
 * Reads the segment front to back, checking every frame's size, CRC and offset. Appends only ever extend the file
 * and a record is acknowledged only once fsync'd, so a bad frame with nothing intact after it is where a crash
 * interrupted a write: it and everything after it were never acknowledged, and are truncated away. A bad frame
 * that intact frames follow is damage to acknowledged records: the file is copied aside, left as it is, and the
 * open fails with a SegmentCorruptError naming the file, the byte and what to do.
 */
export async function scanSegment(
  handle: FileHandle,
  file: string,
  stride: number,
  logger: Logger,
): Promise<ScannedSegment> {
  const { size: fileSize } = await handle.stat();
  const reader = chunkReader(handle, fileSize);
  const positions: number[] = [];
  let position = 0;
  // The first frame's offset starts the file: retention removes whole strides from the front.
  let baseOffset: number | null = null;
  let offset = 0;
  let problem: string | null = null;
  // A frame that is intact but holds the wrong offset is itself a record after the damage.
  let searchFrom = 0;

  while (position < fileSize) {
    const check = await reader.check(position);
    if (check.status === 'incomplete') {
      problem = position + check.needed > fileSize ? 'partial frame at the end of the file' : 'short read';
      searchFrom = position + 1;
      break;
    }
    if (check.status === 'corrupt') {
      problem = check.reason;
      searchFrom = position + 1;
      break;
    }
    if (baseOffset === null) {
      baseOffset = check.offset;
      offset = check.offset;
    }
    if (check.offset !== offset) {
      problem = `frame holds offset ${check.offset} where ${offset} was expected`;
      searchFrom = position;
      break;
    }
    if ((offset - baseOffset) % stride === 0) positions.push(position);
    position += check.length;
    offset++;
  }

  if (position < fileSize) {
    const resumesAt = await findIntactFrame(handle, searchFrom, fileSize);
    if (resumesAt !== null) {
      const copy = await quarantine(file, fileSize);
      const error = new SegmentCorruptError(file, position, offset, problem ?? 'bad frame', resumesAt, copy);
      logger.error({ file, position, offset, reason: problem, resumesAt, quarantine: copy }, error.message);
      throw error;
    }
    logger.warn(
      {
        reason: problem,
        keptRecords: offset - (baseOffset ?? 0),
        keptBytes: position,
        droppedBytes: fileSize - position,
      },
      'torn tail in the segment file (an interrupted write); truncating it',
    );
    await handle.truncate(position);
    await handle.datasync();
  }
  return { baseOffset: baseOffset ?? 0, positions, nextOffset: offset, size: position };
}

/**
 * The segment as a clean close's index (`saved`) describes it, when the file agrees: the same length, the first frame
 * at the base offset, and the frames from the last indexed position on intact, consecutive and ending where the file
 * does. Null otherwise, and then the whole segment is scanned. The frames in between are not read here; every read
 * still checks each frame it passes, so damage done while the log was closed fails the read that reaches it.
 */
export async function resumeSegment(
  handle: FileHandle,
  saved: ScannedSegment,
  stride: number,
): Promise<ScannedSegment | null> {
  const { size: fileSize } = await handle.stat();
  const { baseOffset, nextOffset, positions } = saved;
  const count = nextOffset - baseOffset;
  if (saved.size !== fileSize || count < 0 || positions.length !== Math.ceil(count / stride)) return null;
  if (count === 0) return fileSize === 0 ? saved : null;
  for (let slot = 1; slot < positions.length; slot++)
    if ((positions[slot] as number) <= (positions[slot - 1] as number)) return null;
  const reader = chunkReader(handle, fileSize);
  const first = await reader.check(0);
  if (positions[0] !== 0 || first.status !== 'ok' || first.offset !== baseOffset) return null;
  const lastSlot = positions.length - 1;
  let position = positions[lastSlot] as number;
  let offset = baseOffset + lastSlot * stride;
  while (position < fileSize) {
    const check = await reader.check(position);
    if (check.status !== 'ok' || check.offset !== offset) return null;
    position += check.length;
    offset++;
  }
  return position === fileSize && offset === nextOffset ? saved : null;
}
