// Child process of the crash test: produces in a loop and prints every acknowledged messageId until it is killed.
import { pino } from 'pino';
import { openEmbeddedLog } from './embedded';

const dir = process.argv[2];
if (!dir) throw new Error('usage: embedded.crash-fixture.ts <log dir>');

// stdout carries the acknowledgements, so log lines go to stderr.
const logger = pino({ level: 'warn' }, pino.destination(2));
const log = await openEmbeddedLog({ dir, logger });
await log.ensureTopics([{ name: 'events', partitions: 3 }]);

let sequence = 0;
async function producer(): Promise<never> {
  for (;;) {
    const ids = Array.from({ length: 25 }, () => `m${sequence++}`);
    await log.produce(
      'events',
      ids.map((id) => ({
        key: `user-${Number(id.slice(1)) % 40}`,
        value: Buffer.from(id),
        headers: { messageId: id },
      })),
    );
    // Printed only after produce resolved: every line is a promise that the record is on disk.
    process.stdout.write(`${ids.join('\n')}\n`);
  }
}

await Promise.all([producer(), producer(), producer(), producer()]);
