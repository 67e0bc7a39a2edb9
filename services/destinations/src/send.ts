// One HTTP request to a destination: the address guard at connect time, a deadline, and at most a little of the answer read.
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { isIP } from 'node:net';
import { Agent, request } from 'undici';
import { RefusedAddress, type AddressGuard } from './guard';

/** The most of a receiver's answer read (and kept as the last error): enough to say why, never a flood. */
export const maxAnswerBytes = 4096;

export interface Answer {
  status: number;
  retryAfter: string | null;
  /** The start of the answer's body, as text. */
  body: string;
  latencyMs: number;
}

export interface Sender {
  /** Sends the request; resolves with the receiver's answer, rejects on a refused address, a timeout or a network error. */
  post(url: string, headers: Record<string, string>, body: string): Promise<Answer>;
  close(): Promise<void>;
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * Every address a host name resolves to is checked where the connection is made, so a name cannot pass a check and
 * then resolve elsewhere (DNS rebinding). An address literal in the URL is checked before the request.
 */
function guardedLookup(guard: AddressGuard) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, []);
      for (const { address } of addresses) {
        const range = guard.refusal(address);
        if (range) return callback(new RefusedAddress(hostname, address, range) as NodeJS.ErrnoException, []);
      }
      if (options.all) return callback(null, addresses);
      const [first] = addresses;
      return first
        ? callback(null, first.address, first.family)
        : callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), []);
    });
  };
}

export function createSender(options: { guard: AddressGuard; timeoutMs: number }): Sender {
  const { guard, timeoutMs } = options;
  const agent = new Agent({
    connect: { lookup: guardedLookup(guard), timeout: timeoutMs },
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
  return {
    async post(url, headers, body) {
      const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
      if (isIP(host)) {
        const range = guard.refusal(host);
        if (range) throw new RefusedAddress(host, host, range);
      }
      const started = performance.now();
      const response = await request(url, {
        method: 'POST',
        headers,
        body,
        dispatcher: agent,
        signal: AbortSignal.timeout(timeoutMs),
      });
      const chunks: Buffer[] = [];
      let size = 0;
      try {
        for await (const chunk of response.body) {
          const buffer = Buffer.from(chunk as Uint8Array);
          chunks.push(buffer);
          size += buffer.length;
          if (size >= maxAnswerBytes) break;
        }
      } finally {
        // Stops reading a long answer: the rest is never downloaded.
        if (!response.body.destroyed) response.body.destroy();
      }
      const retryAfter = response.headers['retry-after'];
      return {
        status: response.statusCode,
        retryAfter: Array.isArray(retryAfter) ? (retryAfter[0] ?? null) : (retryAfter ?? null),
        body: Buffer.concat(chunks).subarray(0, maxAnswerBytes).toString('utf8'),
        latencyMs: performance.now() - started,
      };
    },
    close: () => agent.close(),
  };
}
