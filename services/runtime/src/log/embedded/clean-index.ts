// The sparse index a partition writes when it closes cleanly, so the next open need not scan the whole segment. The
// open removes it before anything is appended: after a crash there is none, and the segment is scanned as before.
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { fsyncDir, writeFileAtomic } from './files';
import { crc32 } from './frame';
import type { ScannedSegment } from './scan';

// "CDPLOGIX", format 1, then a CRC-32 of what follows it: the file size, base offset, next offset, the number of
// positions and the positions, each a float64 (exact for any file position or offset below 2^53).
const MAGIC = Buffer.from('CDPLOGIX', 'latin1');
const FORMAT = 1;
const HEADER_BYTES = MAGIC.length + 8;
const FIXED_VALUES = 4;

/** The index file beside a segment file. */
export const cleanIndexFile = (segmentFile: string) => `${segmentFile}.index`;

/** Writes the index of a segment whose every append is fsync'd (temp file, fsync, rename, fsync of the directory). */
export async function writeCleanIndex(segmentFile: string, segment: ScannedSegment): Promise<void> {
  const values = new Float64Array(FIXED_VALUES + segment.positions.length);
  values.set([segment.size, segment.baseOffset, segment.nextOffset, segment.positions.length]);
  values.set(segment.positions, FIXED_VALUES);
  const body = Buffer.from(values.buffer, values.byteOffset, values.byteLength);
  const header = Buffer.alloc(HEADER_BYTES);
  MAGIC.copy(header);
  header.writeUInt32BE(FORMAT, MAGIC.length);
  header.writeUInt32BE(crc32(body), MAGIC.length + 4);
  await writeFileAtomic(cleanIndexFile(segmentFile), Buffer.concat([header, body]));
}

/**
 * Reads and removes (durably) the index a clean close left beside the segment: null when there is none or it is not
 * whole. What it says of the segment is checked against the file by the caller (resumeSegment).
 */
export async function takeCleanIndex(segmentFile: string): Promise<ScannedSegment | null> {
  const file = cleanIndexFile(segmentFile);
  // A close that crashed while writing its index leaves the temp file and no index.
  await rm(`${file}.tmp`, { force: true });
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  await rm(file);
  await fsyncDir(path.dirname(file));
  if (
    bytes.length < HEADER_BYTES + FIXED_VALUES * 8 ||
    (bytes.length - HEADER_BYTES) % 8 !== 0 ||
    !bytes.subarray(0, MAGIC.length).equals(MAGIC) ||
    bytes.readUInt32BE(MAGIC.length) !== FORMAT
  )
    return null;
  const body = bytes.subarray(HEADER_BYTES);
  if (crc32(body) !== bytes.readUInt32BE(MAGIC.length + 4)) return null;
  // Copied out: the buffer's own offset need not be a multiple of 8.
  const values = new Float64Array(new Uint8Array(body).buffer);
  const [size, baseOffset, nextOffset, count] = values as unknown as [number, number, number, number];
  if (count !== values.length - FIXED_VALUES) return null;
  return { size, baseOffset, nextOffset, positions: Array.from(values.subarray(FIXED_VALUES)) };
}
