// The frame codec and the key hash: round trips, corruption detection, and Kafka's murmur2 test vectors.
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  checkFrame,
  decodeFrame,
  encodeFrame,
  encodeHeaders,
  murmur2,
  partitionOf,
  prepareFrame,
  type FrameInput,
} from './frame';

function encode(record: FrameInput, offset: number, timestamp: number): Buffer {
  const frame = prepareFrame(record);
  const buffer = Buffer.alloc(frame.length);
  expect(encodeFrame(buffer, 0, frame, offset, timestamp)).toBe(buffer.length);
  return buffer;
}

describe('record frame', () => {
  it('decodes what it encoded, with multi-byte text, large offsets and no key', () => {
    const record: FrameInput = {
      key: 'usér-😀',
      value: Buffer.from([0, 1, 2, 255]),
      headers: { messageId: 'm-1', 'x-ünï': 'ça va' },
    };
    const buffer = encode(record, 2 ** 40 + 7, 1_763_900_000_123);
    expect(checkFrame(buffer, 0, buffer.length)).toEqual({ status: 'ok', length: buffer.length, offset: 2 ** 40 + 7 });
    expect(decodeFrame(buffer, 0)).toEqual({ ...record, offset: 2 ** 40 + 7, timestamp: 1_763_900_000_123 });

    const keyless = encode({ key: null, value: Buffer.alloc(0), headers: {} }, 0, 0);
    expect(decodeFrame(keyless, 0)).toMatchObject({ key: null, headers: {}, offset: 0 });
  });

  it('lays a frame out byte for byte as the format says', () => {
    const body = Buffer.from(
      [
        '01', // format
        '0000000000000003', // offset
        '0000000000000004', // timestamp
        '00000003 6bc3a9', // key length, "ké" in UTF-8
        '0001', // one header
        '0001 61 00000001 62', // "a": "b"
        '00000002 0102', // the value
      ]
        .join('')
        .replaceAll(' ', ''),
      'hex',
    );
    const head = Buffer.alloc(8);
    head.writeUInt32BE(4 + body.length, 0);
    head.writeUInt32BE(zlib.crc32(body), 4);
    expect(encode({ key: 'ké', value: Buffer.from([1, 2]), headers: { a: 'b' } }, 3, 4)).toEqual(
      Buffer.concat([head, body]),
    );
  });

  it('frames a header section encoded once for several records as it frames a record alone', () => {
    const headers = { segmentId: 'seg_ü', change: 'entered' };
    const section = encodeHeaders(headers);
    for (const key of ['prf_1', 'prf_ü', null]) {
      const record: FrameInput = { key, value: Buffer.from([7, 8]), headers };
      const frame = prepareFrame(record, section);
      const shared = Buffer.alloc(frame.length);
      encodeFrame(shared, 0, frame, 5, 6);
      expect(shared).toEqual(encode(record, 5, 6));
      expect(decodeFrame(shared, 0)).toEqual({ ...record, offset: 5, timestamp: 6 });
    }
  });

  it('reports a cut frame as incomplete and a flipped bit as corrupt', () => {
    const buffer = encode({ key: 'k', value: Buffer.from('hello'), headers: {} }, 3, 1);
    expect(checkFrame(buffer, 0, buffer.length - 1)).toEqual({ status: 'incomplete', needed: buffer.length });
    expect(checkFrame(buffer, 0, 2)).toEqual({ status: 'incomplete', needed: 4 });
    const flipped = Buffer.from(buffer);
    flipped[flipped.length - 1] = (flipped[flipped.length - 1] as number) ^ 1;
    expect(checkFrame(flipped, 0, flipped.length)).toMatchObject({ status: 'corrupt', reason: 'CRC mismatch' });
    expect(checkFrame(Buffer.alloc(64), 0, 64)).toMatchObject({ status: 'corrupt' });
  });
});

describe('key hash', () => {
  it("matches Kafka's murmur2 test vectors", () => {
    // From Apache Kafka's UtilsTest.testMurmur2, also what kafkajs's default partitioner computes.
    const vectors: [string, number][] = [
      ['21', -973932308],
      ['foobar', -790332482],
      ['a-little-bit-long-string', -985981536],
      ['a-little-bit-longer-string', -1486304829],
      ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
      ['abc', 479470107],
    ];
    for (const [text, hash] of vectors) expect(murmur2(Buffer.from(text))).toBe(hash);
  });

  it('maps a key to the positive hash modulo the partition count', () => {
    expect(partitionOf('foobar', 7)).toBe((-790332482 & 0x7fffffff) % 7);
    for (let i = 0; i < 100; i++) expect(partitionOf(`user-${i}`, 5)).toBe(partitionOf(`user-${i}`, 5));
    // ASCII keys are hashed from a buffer kept for them, others from their UTF-8 bytes: both as Kafka hashes the bytes.
    for (const key of ['prf_0001', 'người-dùng', 'x'.repeat(1024), 'x'.repeat(1025), `${'y'.repeat(1023)}ü`, ''])
      expect(partitionOf(key, 1000)).toBe((murmur2(Buffer.from(key)) & 0x7fffffff) % 1000);
  });
});
