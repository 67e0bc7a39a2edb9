// A segment membership change as published on segments.changes, and its Avro codec (schema: schemas/avro/segment-change.avsc).
import { readFileSync } from 'node:fs';
import avro from 'avsc';

export interface SegmentChange {
  segmentId: string;
  profileId: string;
  change: 'entered' | 'exited';
  /** Epoch ms of the evaluation that saw the change. */
  at: number;
  /** Epoch ms at which the stay that this change begins or ends began. */
  enteredAt: number;
  version: number;
}

// Without a logical-type implementation avsc reads timestamp-millis as the plain long it is: epoch ms, as declared.
const changeType = avro.Type.forSchema(
  JSON.parse(readFileSync(new URL('../avro/segment-change.avsc', import.meta.url), 'utf8')) as avro.Schema,
);

export function encodeSegmentChange(change: SegmentChange): Buffer {
  return changeType.toBuffer(change);
}

export function decodeSegmentChange(buffer: Buffer): SegmentChange {
  return changeType.fromBuffer(buffer) as SegmentChange;
}
