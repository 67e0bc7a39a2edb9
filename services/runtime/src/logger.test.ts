// The logger leaves out what an error quotes: ClickHouse puts a failed query's parameters and rows in its messages.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, redactedText } from './logger';

describe('createLogger', () => {
  it("blanks every quoted literal of an error's message and stack, and keeps the rest", () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const logger = createLogger({ level: 'info', destination });
    const error = new Error(
      "Code: 27. DB::Exception: Cannot parse input: expected '\"' before: 'ada@example.com', '+84912345678' (CANNOT_PARSE_INPUT)",
    );
    logger.error({ err: error, writeKey: 'wk_secret_key_0001' }, 'insert failed');
    const [line] = lines;
    expect(line).not.toContain('ada@example.com');
    expect(line).not.toContain('+84912345678');
    expect(line).not.toContain('wk_secret_key_0001');
    expect(JSON.parse(line as string).err.message).toBe(
      "Code: 27. DB::Exception: Cannot parse input: expected '…' before: '…', '…' (CANNOT_PARSE_INPUT)",
    );
  });

  it('blanks escaped quotes inside a literal too', () => {
    expect(redactedText("WHERE value = 'O\\'Brien' AND type = 'email'")).toBe("WHERE value = '…' AND type = '…'");
  });
});
