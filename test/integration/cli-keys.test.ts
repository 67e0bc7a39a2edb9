// `cdp keys` as an operator runs it: scoped and expiring keys, the usual sets by kind, listing, revoking, and clear refusals.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runtimeEnv } from '../harness/platform';
import { runCdp } from '../harness/process';

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'cdp-cli-keys-'));
const env = runtimeEnv('embedded', dataDir);
const keys = (...args: string[]) => runCdp(['keys', ...args], env);

afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('cdp keys', () => {
  it('creates a key with the scopes and expiry asked for, lists it without its secret, and revokes it', async () => {
    const created = await keys(
      'create',
      '--source',
      'bi-tool',
      '--scope',
      'analytics,profiles',
      '--expires',
      '2099-01-31',
    );
    expect(created.code, created.stderr).toBe(0);
    const key = created.stdout.trim();
    expect(key).toMatch(/^rk_[\w-]{32}$/);
    const admin = await keys('create', '--source', 'ops', '--kind', 'admin');
    expect(admin.stdout.trim()).toMatch(/^ak_/);

    const listed = await keys('list');
    expect(listed.code).toBe(0);
    expect(listed.stdout).not.toContain(key);
    const line = listed.stdout.split('\n').find((text) => text.startsWith(key.slice(0, 10)));
    expect(line).toMatch(/analytics,profiles {2}bi-tool {2}\S+ \S+ {2}expires 2099-01-31 00:00:00\.000$/);

    const revoked = await keys('revoke', `${key.slice(0, 10)}…`);
    expect(revoked).toMatchObject({ code: 0, stdout: 'revoked 1 key(s)\n' });
    expect((await keys('list')).stdout.split('\n').find((text) => text.startsWith(key.slice(0, 10)))).toMatch(
      / revoked$/,
    );
  }, 120_000);

  it('refuses an unknown scope, a past expiry and a missing source, naming each, before touching the store', async () => {
    const unknown = await keys('create', '--source', 'x', '--scope', 'analytics,everything');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain(
      'unknown scope everything: scopes are write, trusted, analytics, profiles, audiences, segments:write, admin',
    );
    const past = await keys('create', '--source', 'x', '--scope', 'analytics', '--expires', '2001-01-01');
    expect(past.code).toBe(1);
    expect(past.stderr).toContain('--expires 2001-01-01 is already past');
    const noSource = await keys('create', '--kind', 'read');
    expect(noSource.code).toBe(1);
    expect(noSource.stderr).toContain('--source');
  }, 60_000);
});
