// Recovery of a segment file on open: rebuild the sparse offset index and cut off a torn tail.
import type { FileHandle } from 'node:fs/promises';
import type { Logger } from 'pino';
import { checkFrame } from './frame';

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

/**
 * Reads the segment front to back, checking every frame's size, CRC and offset. Appends only ever
 * extend the file, so the first bad frame marks where a crash interrupted a write: it and everything
 * after it were never acknowledged, and are truncated away.
 */
export async function scanSegment(handle: FileHandle, stride: number, logger: Logger): Promise<ScannedSegment> {
  const { size: fileSize } = await handle.stat();
  const positions: number[] = [];
  let buffer = Buffer.alloc(0);
  let chunk = buffer;
  let chunkStart = 0;
  let position = 0;
  // The first frame's offset starts the file: retention removes whole strides from the front.
  let baseOffset: number | null = null;
  let offset = 0;
  let problem: string | null = null;

  while (position < fileSize) {
    let check = checkFrame(chunk, position - chunkStart, chunk.length);
    if (check.status === 'incomplete') {
      if (position + check.needed > fileSize) {
        problem = 'partial frame at the end of the file';
        break;
      }
      const length = Math.min(fileSize - position, Math.max(SCAN_CHUNK_BYTES, check.needed));
      if (buffer.length < length) buffer = Buffer.allocUnsafe(length);
      const { bytesRead } = await handle.read(buffer, 0, length, position);
      chunk = buffer.subarray(0, bytesRead);
      chunkStart = position;
      check = checkFrame(chunk, 0, chunk.length);
    }
    if (check.status === 'incomplete') {
      problem = 'short read';
      break;
    }
    if (check.status === 'corrupt') {
      problem = check.reason;
      break;
    }
    if (baseOffset === null) {
      baseOffset = check.offset;
      offset = check.offset;
    }
    if (check.offset !== offset) {
      problem = `frame holds offset ${check.offset} where ${offset} was expected`;
      break;
    }
    if ((offset - baseOffset) % stride === 0) positions.push(position);
    position += check.length;
    offset++;
  }

  if (position < fileSize) {
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
