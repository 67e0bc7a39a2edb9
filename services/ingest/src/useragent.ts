// The user agent parsed once per distinct string (ua-parser-js 1.x, MIT), for context.parsedUserAgent.
import { UAParser } from 'ua-parser-js';

export interface ParsedUserAgent {
  browser: { name?: string; version?: string };
  os: { name?: string; version?: string };
  device: { type?: string; vendor?: string; model?: string };
  engine: { name?: string; version?: string };
}

const cacheSize = 2000;
const cache = new Map<string, ParsedUserAgent>();
const maxUserAgentLength = 1024;

/** Browsers send a handful of distinct strings, so a small cache makes parsing free at ingest rates. */
export function parseUserAgent(userAgent: string): ParsedUserAgent {
  const known = cache.get(userAgent);
  if (known) return known;
  const result = new UAParser(userAgent.slice(0, maxUserAgentLength)).getResult();
  const compact = (fields: Record<string, string | undefined>) =>
    Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined && value !== ''));
  const parsed: ParsedUserAgent = {
    browser: compact({ name: result.browser.name, version: result.browser.version }),
    os: compact({ name: result.os.name, version: result.os.version }),
    device: compact({ type: result.device.type, vendor: result.device.vendor, model: result.device.model }),
    engine: compact({ name: result.engine.name, version: result.engine.version }),
  };
  if (cache.size >= cacheSize) cache.delete(cache.keys().next().value as string);
  cache.set(userAgent, parsed);
  return parsed;
}
