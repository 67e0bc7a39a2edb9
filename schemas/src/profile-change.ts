// A profile change as published on profiles.changes, and its Avro codec (schema: schemas/avro/profile-change.avsc).
import { avroCodec } from './avro';

/** One survivor profile that a resolver batch changed; the record exists only once ClickHouse holds the batch. */
export interface ProfileChange {
  /** The survivor profile id the batch resolved events or merges to. */
  profileId: string;
  /** Profile ids the batch wrote as merged into the survivor; usually empty. */
  merged: string[];
  /** How many of the batch's written events landed on the survivor (0 when only a merge changed it). */
  events: number;
  /** Epoch ms at which the resolver had written the batch. */
  at: number;
  /** The identity graph version the batch was resolved at, as its identity and merge rows carry it. */
  version: number;
}

export const { encode: encodeProfileChange, decode: decodeProfileChange } =
  avroCodec<ProfileChange>('profile-change.avsc');
