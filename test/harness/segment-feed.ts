// Follows a test platform's segments.changes topic from its start, decoding every change as a consumer would.
import type { LogConsumer } from '@cdp/runtime';
import { decodeSegmentChange, topicNames, type SegmentChange } from '@cdp/schemas';
import { uniqueName, type TestPlatform } from './platform';

export interface SegmentFeed {
  /** Every change delivered so far, in the order the log delivered them. */
  changes: SegmentChange[];
  /** True once every change published so far has been delivered. */
  caughtUp(): Promise<boolean>;
  close(): Promise<void>;
}

export async function followSegmentChanges(cdp: TestPlatform): Promise<SegmentFeed> {
  const topic = topicNames(cdp.config.topicPrefix).segmentChanges;
  const changes: SegmentChange[] = [];
  const consumer: LogConsumer = await cdp.platform.log!.consume({
    groupId: uniqueName('feed'),
    topics: [topic],
    async handleBatch(batch) {
      changes.push(...batch.records.map((record) => decodeSegmentChange(record.value)));
    },
  });
  return {
    changes,
    async caughtUp() {
      const published = Object.values(await cdp.platform.log!.endOffsets(topic)).reduce(
        (sum, offset) => sum + Number(offset),
        0,
      );
      return changes.length >= published;
    },
    close: () => consumer.close(),
  };
}
