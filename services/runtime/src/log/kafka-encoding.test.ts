// The Kafka adapter's producer without a broker: its partitioner against kafkajs' default, and kafkajs' record
// encoding (patched at install: patches/kafkajs@2.2.4.patch) against the record layout of Kafka's protocol.
import { createRequire } from 'node:module';
import { Partitioners, type PartitionerArgs, type PartitionMetadata } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { murmur2Partitioner } from './kafka';

const metadata = (count: number): PartitionMetadata[] =>
  Array.from({ length: count }, (_, partitionId) => ({
    partitionErrorCode: 0,
    partitionId,
    leader: 0,
    replicas: [0],
    isr: [0],
  }));

describe('the Kafka partitioner', () => {
  it("puts every key on kafkajs' default partitioner's partition", () => {
    const ours = murmur2Partitioner();
    const theirs = Partitioners.DefaultPartitioner();
    const keys = ['', 'a', 'user-1', 'ab', 'abc', 'abcd', 'x'.repeat(1024), 'x'.repeat(1025), 'Nguyễn Văn A', '顧客'];
    keys.push('😀', '\u0000', '\u007f', '\u00e9', '\ud800', 'é'.repeat(600));
    for (let index = 0; index < 2000; index += 1) keys.push(`profile-${index * 7919}`);
    for (const partitions of [1, 3, 4, 12, 1000]) {
      for (const key of keys) {
        const args: PartitionerArgs = {
          topic: 't',
          partitionMetadata: metadata(partitions),
          message: { key, value: 'v' },
        };
        expect(ours(args), `${key} over ${partitions}`).toBe(theirs(args));
      }
    }
  });

  it('leaves a record without a key, and one that names its partition, to the default', () => {
    const ours = murmur2Partitioner();
    const message = (fields: { key?: string | null; partition?: number }) => ({
      topic: 't',
      partitionMetadata: metadata(4),
      message: { value: 'v', ...fields },
    });
    expect(ours(message({ key: 'user-1', partition: 3 }))).toBe(3);
    // Without a key the default goes round the partitions.
    const spread = new Set(Array.from({ length: 8 }, () => ours(message({ key: null }))));
    expect(spread).toEqual(new Set([0, 1, 2, 3]));
  });
});

// The encoders kafkajs builds a produce request from (not part of its typed API).
const load = createRequire(import.meta.url);
interface Encoder {
  buffer: Buffer;
  writeInt8(value: number): Encoder;
  writeVarInt(value: number): Encoder;
  writeUVarInt(value: number): Encoder;
  writeVarLong(value: number): Encoder;
}
const Encoder = load('kafkajs/src/protocol/encoder') as { new (): Encoder; sizeOfVarLong(value: number): number };
const encodeRecord = load('kafkajs/src/protocol/recordBatch/record/v0') as (record: {
  offsetDelta?: number;
  timestampDelta?: number;
  key: Buffer | string | null;
  value: Buffer | string | null;
  headers?: Record<string, string | Buffer | Array<string | Buffer>>;
}) => { buffer: Buffer };

/** Kafka's varint / varlong: zigzag, then 7 bits a byte, low first. */
function varint(value: bigint): Buffer {
  let rest = value >= 0n ? value * 2n : -value * 2n - 1n;
  const bytes: number[] = [];
  while (rest >= 0x80n) {
    bytes.push(Number(rest & 0x7fn) | 0x80);
    rest >>= 7n;
  }
  bytes.push(Number(rest));
  return Buffer.from(bytes);
}
const bytesField = (value: Buffer | null) =>
  value === null ? varint(-1n) : Buffer.concat([varint(BigInt(value.length)), value]);

/** A record as Kafka's protocol lays it out (RecordBatch v2): length, attributes, deltas, key, value, headers. */
function recordBytes(record: {
  offsetDelta: number;
  timestampDelta: bigint;
  key: Buffer | null;
  value: Buffer | null;
  headers: Array<[string, Buffer]>;
}): Buffer {
  const body = Buffer.concat([
    Buffer.from([0]),
    varint(record.timestampDelta),
    varint(BigInt(record.offsetDelta)),
    bytesField(record.key),
    bytesField(record.value),
    varint(BigInt(record.headers.length)),
    ...record.headers.flatMap(([key, value]) => [bytesField(Buffer.from(key)), bytesField(value)]),
  ]);
  return Buffer.concat([varint(BigInt(body.length)), body]);
}

describe("kafkajs' record encoding", () => {
  it('writes varints of every length across the end of its buffer, which then grows', () => {
    const values = [0, -1, 63, -65, 8191, -8193, 2 ** 20, -(2 ** 20) - 1, 2 ** 27, 2 ** 31 - 1, -(2 ** 31)];
    for (const value of values) {
      // The encoder starts with 512 bytes: varints written from 509 on cross its end.
      for (const at of [0, 509, 510, 511]) {
        const encoder = new Encoder();
        for (let filler = 0; filler < at; filler += 1) encoder.writeInt8(1);
        const head = Buffer.alloc(at, 1);
        expect(encoder.writeVarInt(value).buffer).toEqual(Buffer.concat([head, varint(BigInt(value))]));
        expect(encoder.writeVarLong(value).buffer).toEqual(
          Buffer.concat([head, varint(BigInt(value)), varint(BigInt(value))]),
        );
      }
      expect(Encoder.sizeOfVarLong(value)).toBe(varint(BigInt(value)).length);
    }
    // Unsigned: the zigzag of the value above is already done.
    expect(new Encoder().writeUVarInt(300).buffer).toEqual(Buffer.from([0xac, 0x02]));
    expect(new Encoder().writeUVarInt(2 ** 32 - 1).buffer).toEqual(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]));
  });

  it('lays out a record with headers as the protocol does', () => {
    const encoded = encodeRecord({
      offsetDelta: 3,
      timestampDelta: 0,
      key: 'profile-1',
      value: Buffer.from([1, 2, 3]),
      headers: { segmentId: 'vip', change: 'entered' },
    }).buffer;
    expect(encoded).toEqual(
      recordBytes({
        offsetDelta: 3,
        timestampDelta: 0n,
        key: Buffer.from('profile-1'),
        value: Buffer.from([1, 2, 3]),
        headers: [
          ['segmentId', Buffer.from('vip')],
          ['change', Buffer.from('entered')],
        ],
      }),
    );
  });

  it('writes multi-byte varints, deltas beyond 32 bits, repeated and non-ASCII headers, and null keys', () => {
    const value = Buffer.alloc(20_000, 7);
    type Headers = Record<string, string | Buffer | Array<string | Buffer>>;
    const cases: Array<{ offsetDelta: number; timestampDelta: number; key: string | null; headers: Headers }> = [
      { offsetDelta: 70_000, timestampDelta: -300, key: null, headers: {} },
      { offsetDelta: 2 ** 31 - 1, timestampDelta: 2 ** 33 + 5, key: 'k', headers: { type: ['a', 'bé'] } },
      { offsetDelta: 0, timestampDelta: -(2 ** 31), key: 'Nguyễn', headers: { ý: Buffer.from([0, 255]) } },
    ];
    for (const { offsetDelta, timestampDelta, key, headers } of cases) {
      const expected = recordBytes({
        offsetDelta,
        timestampDelta: BigInt(timestampDelta),
        key: key === null ? null : Buffer.from(key),
        value,
        headers: Object.entries(headers).flatMap(([name, values]) =>
          (Array.isArray(values) ? values : [values]).map((one): [string, Buffer] => [name, Buffer.from(one)]),
        ),
      });
      expect(encodeRecord({ offsetDelta, timestampDelta, key, value, headers }).buffer).toEqual(expected);
    }
  });
});
