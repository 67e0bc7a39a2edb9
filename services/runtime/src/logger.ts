// The one pino logger factory: structured JSON, keys and tokens redacted, and no quoted literal of an error (personal data) logged.
import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger } from 'pino';

/** Text with every quoted literal blanked: ClickHouse quotes a failed query's parameters and rows (a customer's email) in its errors. */
export const redactedText = (text: string): string => text.replace(/'(?:[^'\\]|\\.)*'/g, "'…'");

/** pino's error serializer, with the message and stack redacted as `redactedText` does. */
function errorWithoutLiterals(error: Error): Record<string, unknown> {
  const serialized = pino.stdSerializers.err(error) as unknown as Record<string, unknown>;
  for (const field of ['message', 'stack'] as const)
    if (typeof serialized[field] === 'string') serialized[field] = redactedText(serialized[field] as string);
  return serialized;
}

/** `destination`: where the lines go (standard output unless given). */
export function createLogger(options: { level?: string; name?: string; destination?: DestinationStream } = {}): Logger {
  const settings = {
    name: options.name ?? 'cdp',
    level: options.level ?? 'info',
    redact: {
      paths: ['req.headers.authorization', 'headers.authorization', '*.writeKey', 'writeKey', '*.password', 'password'],
      censor: '[redacted]',
    },
    serializers: { err: errorWithoutLiterals },
  };
  return options.destination ? pino(settings, options.destination) : pino(settings);
}
