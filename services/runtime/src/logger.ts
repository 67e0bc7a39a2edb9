// The one pino logger factory: structured JSON, keys and tokens redacted.
import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';

export function createLogger(options: { level?: string; name?: string } = {}): Logger {
  return pino({
    name: options.name ?? 'cdp',
    level: options.level ?? 'info',
    redact: {
      paths: ['req.headers.authorization', 'headers.authorization', '*.writeKey', 'writeKey', '*.password', 'password'],
      censor: '[redacted]',
    },
  });
}
