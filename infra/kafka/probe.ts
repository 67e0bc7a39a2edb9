// Asks a Kafka broker, through kafkajs, whether it serves clients: the same client and protocol versions the runtime uses.
import { Kafka, logLevel } from 'kafkajs';

/**
 * True when an admin client can connect and the cluster lists at least one live broker. A KRaft broker lists itself
 * only once registered and unfenced, i.e. when it takes writes; an open port says less. Speaking kafkajs here also
 * fails fast on a broker too new for kafkajs (Kafka 4 dropped the protocol versions kafkajs 2.2 uses).
 */
export async function kafkaAnswers(brokers: string, timeoutMs = 2_000): Promise<boolean> {
  const admin = new Kafka({
    clientId: 'cdp-kafka-readiness',
    brokers: brokers.split(','),
    // Refused connections are the expected answer while the broker starts; retries would only stretch each poll.
    logLevel: logLevel.NOTHING,
    connectionTimeout: timeoutMs,
    requestTimeout: timeoutMs,
    retry: { retries: 0 },
  }).admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return cluster.brokers.length > 0;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
