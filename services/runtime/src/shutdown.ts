// Graceful shutdown on SIGINT / SIGTERM: close everything once, in order, within a deadline.
import type { Logger } from 'pino';

export function onShutdownSignal(options: { logger: Logger; timeoutMs: number; close: () => Promise<void> }): void {
  let closing = false;
  const handler = (signal: NodeJS.Signals) => {
    if (closing) return;
    closing = true;
    options.logger.info({ signal }, 'shutting down: draining requests and committing what was processed');
    const timer = setTimeout(() => {
      options.logger.error({ timeoutMs: options.timeoutMs }, 'shutdown timed out');
      process.exit(1);
    }, options.timeoutMs);
    timer.unref();
    options
      .close()
      .then(() => {
        options.logger.info('stopped');
        process.exit(0);
      })
      .catch((error: unknown) => {
        options.logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
}
