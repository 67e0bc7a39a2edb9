// The on-disk record frame of the embedded log (encode, decode, CRC) and the key → partition hash.
import zlib from 'node:zlib';

/*
 * Frame layout, big-endian (see ../README.md):
 *   0  u32  size       bytes after this field
 *   4  u32  crc32      CRC-32 (zlib polynomial) of the `size - 4` bytes after this field
 *   8  u8   format     1
 *   9  u64  offset
 *  17  u64  timestamp  epoch milliseconds
 *  25  i32  keyLength  -1 = no key
 *      key  UTF-8
 *      u16  headerCount, then per header: u16 nameLength, name, u32 valueLength, value (UTF-8)
 *      u32  valueLength, value
 */
export const FRAME_FORMAT = 1;
const FIXED_BYTES = 4 + 4 + 1 + 8 + 8 + 4 + 2 + 4;
/** Smallest valid `size` field. */
const MIN_SIZE = FIXED_BYTES - 4;
/** A `size` above this is garbage, not a record; produce refuses records that would exceed it. */
export const MAX_FRAME_BYTES = 64 * 1024 * 1024;
const TWO_32 = 2 ** 32;

export interface FrameInput {
  key: string | null;
  value: Buffer;
  headers: Record<string, string>;
}

export interface DecodedFrame {
  offset: number;
  timestamp: number;
  key: string | null;
  headers: Record<string, string>;
  value: Buffer;
}

export const crc32: (data: Uint8Array) => number =
  typeof (zlib as { crc32?: unknown }).crc32 === 'function' ? (data) => zlib.crc32(data) : tableCrc32();

/** Fallback for Node releases before 20.15 that lack zlib.crc32; same polynomial, same results. */
function tableCrc32(): (data: Uint8Array) => number {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return (data) => {
    let crc = 0xffffffff;
    for (const byte of data) crc = (table[(crc ^ byte) & 0xff] as number) ^ (crc >>> 8);
    return (crc ^ 0xffffffff) >>> 0;
  };
}

/** The header section of a frame: u16 count, then per header u16 nameLength, name, u32 valueLength, value. */
export function encodeHeaders(headers: Record<string, string>): Buffer {
  const names = Object.keys(headers);
  let length = 2;
  for (const name of names) length += 2 + Buffer.byteLength(name) + 4 + Buffer.byteLength(headers[name] as string);
  const section = Buffer.allocUnsafe(length);
  section.writeUInt16BE(names.length, 0);
  let at = 2;
  for (const name of names) {
    const nameBytes = section.write(name, at + 2, 'utf8');
    section.writeUInt16BE(nameBytes, at);
    at += 2 + nameBytes;
    const valueBytes = section.write(headers[name] as string, at + 4, 'utf8');
    section.writeUInt32BE(valueBytes, at);
    at += 4 + valueBytes;
  }
  return section;
}

const noHeaders = encodeHeaders({});
const ascii = /^\p{ASCII}*$/u;

/**
 * A record as it is framed: its key's UTF-8 length (an ASCII key's, the usual id's, is its string length, and it is
 * written as Latin-1), its header section encoded (records that share one headers object share it), and the frame's
 * length.
 */
export interface PreparedFrame {
  key: string | null;
  keyBytes: number;
  keyAscii: boolean;
  headers: Buffer;
  value: Buffer;
  length: number;
}

/** A record prepared for encodeFrame; `headers` is its header section (encodeHeaders), when the caller has it. */
export function prepareFrame(record: FrameInput, headers?: Buffer): PreparedFrame {
  const keyAscii = record.key !== null && ascii.test(record.key);
  const keyBytes = record.key === null ? 0 : keyAscii ? record.key.length : Buffer.byteLength(record.key);
  const section = headers ?? (Object.keys(record.headers).length === 0 ? noHeaders : encodeHeaders(record.headers));
  const length = FIXED_BYTES - 2 + keyBytes + section.length + record.value.length;
  return { key: record.key, keyBytes, keyAscii, headers: section, value: record.value, length };
}

function writeU64(buffer: Buffer, value: number, at: number): void {
  buffer.writeUInt32BE(Math.floor(value / TWO_32), at);
  buffer.writeUInt32BE(value >>> 0, at + 4);
}

function readU64(buffer: Buffer, at: number): number {
  return buffer.readUInt32BE(at) * TWO_32 + buffer.readUInt32BE(at + 4);
}

/** Writes one frame at `at` (the caller sized `buffer` with the frame's length); returns the position after it. */
export function encodeFrame(
  buffer: Buffer,
  at: number,
  frame: PreparedFrame,
  offset: number,
  timestamp: number,
): number {
  const start = at;
  at += 8;
  buffer[at] = FRAME_FORMAT;
  writeU64(buffer, offset, at + 1);
  writeU64(buffer, timestamp, at + 9);
  at += 17;
  if (frame.key === null) {
    buffer.writeInt32BE(-1, at);
    at += 4;
  } else {
    buffer.writeInt32BE(frame.keyBytes, at);
    // An ASCII key's Latin-1 bytes are its UTF-8 bytes, and Latin-1 is the faster write.
    buffer.write(frame.key, at + 4, frame.keyBytes, frame.keyAscii ? 'latin1' : 'utf8');
    at += 4 + frame.keyBytes;
  }
  buffer.set(frame.headers, at);
  at += frame.headers.length;
  buffer.writeUInt32BE(frame.value.length, at);
  buffer.set(frame.value, at + 4);
  at += 4 + frame.value.length;
  buffer.writeUInt32BE(at - start - 4, start);
  buffer.writeUInt32BE(crc32(buffer.subarray(start + 8, at)), start + 4);
  return at;
}

export type FrameCheck =
  /** The frame is intact; `length` bytes long in total. */
  | { status: 'ok'; length: number; offset: number }
  /** Fewer bytes than the frame needs are in `buffer`: read more (or, at the end of the file, a torn tail). */
  | { status: 'incomplete'; needed: number }
  | { status: 'corrupt'; reason: string };

/** Checks the frame at `at` (size bounds, CRC, format) without decoding its fields. */
export function checkFrame(buffer: Buffer, at: number, end: number): FrameCheck {
  if (end - at < 4) return { status: 'incomplete', needed: 4 };
  const size = buffer.readUInt32BE(at);
  if (size < MIN_SIZE || size + 4 > MAX_FRAME_BYTES)
    return { status: 'corrupt', reason: `impossible frame size ${size}` };
  if (end - at < size + 4) return { status: 'incomplete', needed: size + 4 };
  const stored = buffer.readUInt32BE(at + 4);
  if (crc32(buffer.subarray(at + 8, at + 4 + size)) !== stored) return { status: 'corrupt', reason: 'CRC mismatch' };
  const format = buffer.readUInt8(at + 8);
  if (format !== FRAME_FORMAT) return { status: 'corrupt', reason: `unknown frame format ${format}` };
  return { status: 'ok', length: size + 4, offset: readU64(buffer, at + 9) };
}

/** Decodes a frame checkFrame accepted. The value is a view into `buffer`, not a copy. */
export function decodeFrame(buffer: Buffer, at: number): DecodedFrame {
  const end = at + 4 + buffer.readUInt32BE(at);
  const offset = readU64(buffer, at + 9);
  const timestamp = readU64(buffer, at + 17);
  const keyLength = buffer.readInt32BE(at + 25);
  let cursor = at + 29;
  let key: string | null = null;
  if (keyLength >= 0) {
    key = buffer.toString('utf8', cursor, cursor + keyLength);
    cursor += keyLength;
  }
  const headerCount = buffer.readUInt16BE(cursor);
  cursor += 2;
  const headers: Record<string, string> = {};
  for (let i = 0; i < headerCount; i++) {
    const nameLength = buffer.readUInt16BE(cursor);
    const name = buffer.toString('utf8', cursor + 2, cursor + 2 + nameLength);
    cursor += 2 + nameLength;
    const valueLength = buffer.readUInt32BE(cursor);
    headers[name] = buffer.toString('utf8', cursor + 4, cursor + 4 + valueLength);
    cursor += 4 + valueLength;
  }
  const valueLength = buffer.readUInt32BE(cursor);
  const value = buffer.subarray(cursor + 4, cursor + 4 + valueLength);
  if (cursor + 4 + valueLength !== end) throw new Error(`frame at offset ${offset} has inconsistent field lengths`);
  return { offset, timestamp, key, headers, value };
}

/**
 * Kafka's murmur2 (the Java client's and kafkajs's default partitioner for keyed records), so a key
 * lands on the same partition number under both runtimes.
 */
export function murmur2(data: Uint8Array, length = data.length): number {
  const m = 0x5bd1e995;
  let h = 0x9747b28c ^ length;
  const whole = length & ~3;
  for (let i = 0; i < whole; i += 4) {
    let k =
      (data[i] as number) |
      ((data[i + 1] as number) << 8) |
      ((data[i + 2] as number) << 16) |
      ((data[i + 3] as number) << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  const rest = length & 3;
  if (rest === 3) h ^= (data[whole + 2] as number) << 16;
  if (rest >= 2) h ^= (data[whole + 1] as number) << 8;
  if (rest >= 1) h = Math.imul(h ^ (data[whole] as number), m);
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

/** The partition of a key: positive murmur2 of its UTF-8 bytes modulo the partition count, as Kafka does. */
export function partitionOf(key: string, partitions: number): number {
  // An ASCII key's bytes are its characters: written into a buffer kept for it rather than a new one each time.
  const hash =
    key.length <= keyScratch.length && ascii.test(key)
      ? murmur2(keyScratch, keyScratch.write(key, 0, 'latin1'))
      : murmur2(Buffer.from(key, 'utf8'));
  return (hash & 0x7fffffff) % partitions;
}

const keyScratch = Buffer.allocUnsafe(1024);
