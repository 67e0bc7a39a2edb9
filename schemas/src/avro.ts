// An Avro codec for a record shape declared in schemas/avro/: one schema file, one encode/decode pair.
import { readFileSync } from 'node:fs';
import avro from 'avsc';

export interface AvroCodec<T> {
  encode(value: T): Buffer;
  /**
   * Each value encoded, as views into a few shared buffers rather than a buffer of its own each: for many values at
   * once (a pass's changes), where allocating one zeroed buffer per value costs more than encoding it.
   */
  encodeAll(values: readonly T[]): Buffer[];
  decode(buffer: Buffer): T;
}

/** The size of the shared buffers encodeAll fills (a value larger than this gets one of its own size, doubled). */
const slabBytes = 256 * 1024;

/** The codec of `schemas/avro/<file>`; encoding checks the value against the schema and throws if it does not fit. */
export function avroCodec<T>(file: string): AvroCodec<T> {
  const type = avro.Type.forSchema(
    JSON.parse(readFileSync(new URL(`../avro/${file}`, import.meta.url), 'utf8')) as avro.Schema,
  );
  return {
    encode: (value) => type.toBuffer(value),
    encodeAll(values) {
      const encoded: Buffer[] = [];
      let slab = Buffer.allocUnsafe(slabBytes);
      let at = 0;
      for (const value of values) {
        let end = type.encode(value, slab, at);
        if (end < 0) {
          // Too little room left (by -end bytes): the rest goes into a new buffer; views of the old one stay valid.
          slab = Buffer.allocUnsafe(Math.max(slabBytes, 2 * (slab.length - at - end)));
          at = 0;
          end = type.encode(value, slab, at);
        }
        encoded.push(slab.subarray(at, end));
        at = end;
      }
      return encoded;
    },
    decode: (buffer) => type.fromBuffer(buffer) as T,
  };
}
