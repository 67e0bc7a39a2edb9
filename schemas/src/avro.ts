// An Avro codec for a record shape declared in schemas/avro/: one schema file, one encode/decode pair.
import { readFileSync } from 'node:fs';
import avro from 'avsc';

export interface AvroCodec<T> {
  encode(value: T): Buffer;
  decode(buffer: Buffer): T;
}

/** The codec of `schemas/avro/<file>`; encoding checks the value against the schema and throws if it does not fit. */
export function avroCodec<T>(file: string): AvroCodec<T> {
  const type = avro.Type.forSchema(
    JSON.parse(readFileSync(new URL(`../avro/${file}`, import.meta.url), 'utf8')) as avro.Schema,
  );
  return {
    encode: (value) => type.toBuffer(value),
    decode: (buffer) => type.fromBuffer(buffer) as T,
  };
}
