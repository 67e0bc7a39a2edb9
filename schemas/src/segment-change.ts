// A segment membership change as published on segments.changes, and its Avro codec (schema: schemas/avro/segment-change.avsc).
import { avroCodec } from './avro';

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
const changeCodec = avroCodec<SegmentChange>('segment-change.avsc');

export const encodeSegmentChanges = changeCodec.encodeAll;
export const decodeSegmentChange = changeCodec.decode;
