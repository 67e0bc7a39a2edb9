// Behaviour of loadConfig: defaults, parsing of lists, empty variables as unset, and every bad variable reported at once.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config';

/** Runs loadConfig expecting a ConfigError and returns it, so a test can look at its problems. */
function configErrorOf(env: Record<string, string | undefined>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('loadConfig accepted an environment it should refuse');
}

describe('loadConfig defaults', () => {
  it('listens on port 8080 on every interface when nothing is set', () => {
    const config = loadConfig({});
    expect(config.port).toBe(8080);
    expect(config.host).toBe('0.0.0.0');
  });

  it('uses the embedded event log when KAFKA_BROKERS is unset', () => {
    expect(loadConfig({}).kafka).toBeNull();
  });

  it('keeps chDB under the data dir and uses database cdp when no ClickHouse server is given', () => {
    const config = loadConfig({});
    expect(config.dataDir).toBe(path.join(process.cwd(), '.cdp-data'));
    expect(config.clickhouse).toMatchObject({
      url: null,
      database: 'cdp',
      chdbPath: path.join(process.cwd(), '.cdp-data', 'clickhouse'),
    });
  });

  it('warns of ClickHouse calls slower than 2 s and runs unnamed ones unless CDP_CLICKHOUSE_REQUIRE_NAMES is true', () => {
    expect(loadConfig({}).clickhouse).toMatchObject({ slowQueryMs: 2000, requireNames: false });
    expect(
      loadConfig({ CDP_CLICKHOUSE_SLOW_QUERY_MS: '0', CDP_CLICKHOUSE_REQUIRE_NAMES: 'true' }).clickhouse,
    ).toMatchObject({ slowQueryMs: 0, requireNames: true });
    expect(configErrorOf({ CDP_CLICKHOUSE_SLOW_QUERY_MS: '-1', CDP_CLICKHOUSE_REQUIRE_NAMES: 'yes' }).problems).toEqual(
      [
        expect.stringMatching(/^CDP_CLICKHOUSE_SLOW_QUERY_MS: /),
        expect.stringMatching(/^CDP_CLICKHOUSE_REQUIRE_NAMES: /),
      ],
    );
  });

  it('puts the chDB path under a data dir given in CDP_DATA_DIR', () => {
    const config = loadConfig({ CDP_DATA_DIR: '/srv/cdp' });
    expect(config.dataDir).toBe('/srv/cdp');
    expect(config.clickhouse.chdbPath).toBe('/srv/cdp/clickhouse');
  });

  it('has no seed keys unless CDP_WRITE_KEY, CDP_READ_KEY or CDP_ADMIN_KEY is set', () => {
    expect(loadConfig({}).seedKeys).toEqual({ write: undefined, read: undefined, admin: undefined });
    const seeded = {
      CDP_WRITE_KEY: 'wk_seeded_write_0001',
      CDP_READ_KEY: 'rk_seeded_read_0001',
      CDP_ADMIN_KEY: 'ak_seeded_admin_0001',
    };
    expect(loadConfig(seeded).seedKeys).toEqual({
      write: seeded.CDP_WRITE_KEY,
      read: seeded.CDP_READ_KEY,
      admin: seeded.CDP_ADMIN_KEY,
    });
  });

  it('refuses a seeded key shorter than 16 characters, naming the variable', () => {
    for (const name of ['CDP_WRITE_KEY', 'CDP_READ_KEY', 'CDP_ADMIN_KEY']) {
      expect(() => loadConfig({ [name]: 'short-key-15chr' }), name).toThrow(
        new RegExp(`${name}.*at least 16 characters`),
      );
    }
    expect(loadConfig({ CDP_READ_KEY: 'long-enough-16ch' }).seedKeys.read).toBe('long-enough-16ch');
  });
});

describe('loadConfig parsing', () => {
  it('splits KAFKA_BROKERS on commas and trims each broker', () => {
    const config = loadConfig({ KAFKA_BROKERS: ' kafka-1:9092 ,kafka-2:9092,  kafka-3:9093 ' });
    expect(config.kafka).toEqual({
      brokers: ['kafka-1:9092', 'kafka-2:9092', 'kafka-3:9093'],
      clientId: 'cdp',
      client: 'kafkajs',
    });
  });

  it('drops empty entries from the KAFKA_BROKERS list', () => {
    expect(loadConfig({ KAFKA_BROKERS: 'a:9092,,b:9092,' }).kafka?.brokers).toEqual(['a:9092', 'b:9092']);
  });

  it('reads a numeric PORT and a ClickHouse server URL', () => {
    const config = loadConfig({
      PORT: '9000',
      CLICKHOUSE_URL: 'http://clickhouse:8123',
      CLICKHOUSE_DATABASE: 'analytics',
    });
    expect(config.port).toBe(9000);
    expect(config.clickhouse.url).toBe('http://clickhouse:8123');
    expect(config.clickhouse.database).toBe('analytics');
  });

  it('reads CDP_CLICKHOUSE_CLUSTER with a server, and leaves it unset by default', () => {
    const server = { CLICKHOUSE_URL: 'http://clickhouse:8123' };
    expect(loadConfig({ ...server, CDP_CLICKHOUSE_CLUSTER: 'cdp_cluster' }).clickhouse.cluster).toBe('cdp_cluster');
    expect(loadConfig({ ...server, CDP_CLICKHOUSE_CLUSTER: '{cluster}' }).clickhouse.cluster).toBe('{cluster}');
    expect(loadConfig(server).clickhouse).not.toHaveProperty('cluster');
    expect(loadConfig({}).clickhouse).not.toHaveProperty('cluster');
  });

  it('refuses CDP_CLICKHOUSE_CLUSTER without a server, or with a name that is not one', () => {
    expect(configErrorOf({ CDP_CLICKHOUSE_CLUSTER: 'cdp_cluster' }).problems).toEqual([
      expect.stringMatching(/^CDP_CLICKHOUSE_CLUSTER: needs CLICKHOUSE_URL/),
    ]);
    expect(
      configErrorOf({ CLICKHOUSE_URL: 'http://clickhouse:8123', CDP_CLICKHOUSE_CLUSTER: "a' b" }).problems,
    ).toEqual([expect.stringMatching(/^CDP_CLICKHOUSE_CLUSTER: must be a cluster name/)]);
  });
});

describe('loadConfig empty variables', () => {
  it('treats empty optional variables as unset', () => {
    const config = loadConfig({
      KAFKA_BROKERS: '',
      CLICKHOUSE_URL: '',
      CLICKHOUSE_USER: '',
      CDP_CHDB_PATH: '',
      CDP_WRITE_KEY: '  ',
    });
    expect(config.kafka).toBeNull();
    expect(config.clickhouse.url).toBeNull();
    expect(config.clickhouse.user).toBeUndefined();
    expect(config.clickhouse.chdbPath).toBe(path.join(process.cwd(), '.cdp-data', 'clickhouse'));
    expect(config.seedKeys.write).toBeUndefined();
  });

  // Deployment templates often render an unset value as VAR=; that must mean "use the default", not "use ''".
  it.each([
    'PORT',
    'HOST',
    'LOG_LEVEL',
    'CDP_DATA_DIR',
    'KAFKA_CLIENT_ID',
    'CDP_TOPIC_PARTITIONS',
    'CLICKHOUSE_DATABASE',
    'CDP_RESOLVER_BATCH_SIZE',
  ])('falls back to the default when %s is the empty string', (variable) => {
    // A broker is set so that KAFKA_CLIENT_ID shows up in the result.
    const base = { KAFKA_BROKERS: 'kafka:9092' };
    expect(loadConfig({ ...base, [variable]: '' })).toEqual(loadConfig(base));
  });

  it('never gives a Kafka config with no brokers when KAFKA_BROKERS holds only commas', () => {
    // Either reading it as unset (embedded log) or refusing it is fine; an empty broker list is not.
    let kafka: ReturnType<typeof loadConfig>['kafka'];
    try {
      kafka = loadConfig({ KAFKA_BROKERS: ' , ' }).kafka;
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return;
    }
    expect(kafka).toBeNull();
  });
});

describe('loadConfig bad values', () => {
  it('throws a ConfigError with code INVALID_CONFIG for a bad value', () => {
    const error = configErrorOf({ PORT: 'abc' });
    expect(error.code).toBe('INVALID_CONFIG');
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]).toMatch(/^PORT: /);
  });

  it('names every bad variable at once', () => {
    const error = configErrorOf({ PORT: 'abc', CLICKHOUSE_URL: 'not-a-url', CLICKHOUSE_DATABASE: 'x;DROP' });
    const named = error.problems.map((problem) => problem.split(':')[0]).sort();
    expect(named).toEqual(['CLICKHOUSE_DATABASE', 'CLICKHOUSE_URL', 'PORT']);
    for (const variable of named) expect(error.message).toContain(variable);
  });

  it('refuses a port outside 0..65535', () => {
    expect(configErrorOf({ PORT: '70000' }).problems[0]).toMatch(/^PORT: /);
  });

  it('refuses a topic prefix with characters a topic name cannot hold', () => {
    expect(configErrorOf({ CDP_TOPIC_PREFIX: 'a/b' }).problems[0]).toMatch(/^CDP_TOPIC_PREFIX: /);
  });
});

describe('ingest edge settings', () => {
  it('trusts no proxy and limits each write key to 10000 requests per second by default', () => {
    const config = loadConfig({});
    expect(config.trustedProxies).toEqual([]);
    expect(config.ingest).toEqual({ rateLimitPerSecond: 10000, maxEventLoopDelayMs: 1000, maxHeapUsedBytes: 0 });
  });

  it('splits CDP_TRUSTED_PROXIES into addresses and CIDRs and reads the limits', () => {
    const config = loadConfig({
      CDP_TRUSTED_PROXIES: '10.0.0.0/8, 127.0.0.1,::1',
      CDP_RATE_LIMIT_PER_SECOND: '0',
      CDP_MAX_HEAP_USED_MB: '512',
    });
    expect(config.trustedProxies).toEqual(['10.0.0.0/8', '127.0.0.1', '::1']);
    expect(config.ingest.rateLimitPerSecond).toBe(0);
    expect(config.ingest.maxHeapUsedBytes).toBe(512 * 1024 * 1024);
  });

  it('refuses a trusted proxy that is no address', () => {
    expect(configErrorOf({ CDP_TRUSTED_PROXIES: 'proxy.example.com' }).problems[0]).toMatch(
      /^CDP_TRUSTED_PROXIES: .*CIDR/,
    );
  });
});

describe('identity settings', () => {
  it('starts from the default limits and overrides the types given', () => {
    expect(loadConfig({}).identityLimits).toEqual({ email: 5, phone: 5, anonymous_id: 100 });
    expect(loadConfig({ CDP_IDENTITY_LIMITS: 'anonymous_id=20, email=2' }).identityLimits).toEqual({
      email: 2,
      phone: 5,
      anonymous_id: 20,
    });
  });

  it('names a limit it cannot read', () => {
    expect(() => loadConfig({ CDP_IDENTITY_LIMITS: 'user_id=2' })).toThrow(
      /CDP_IDENTITY_LIMITS.*user_id=2 is not TYPE=N/,
    );
    expect(() => loadConfig({ CDP_IDENTITY_LIMITS: 'email=0' })).toThrow(/CDP_IDENTITY_LIMITS/);
  });

  it('reads the blocklist as comma-separated values', () => {
    expect(loadConfig({ CDP_IDENTITY_BLOCKLIST: 'khongco@cuahang.vn, +84900001111' }).identityBlocklist).toEqual([
      'khongco@cuahang.vn',
      '+84900001111',
    ]);
    expect(loadConfig({}).identityBlocklist).toEqual([]);
  });
});

describe('privacy settings', () => {
  it('keeps client IPs by default, and takes truncate or drop', () => {
    expect(loadConfig({}).clientIp).toBe('keep');
    expect(loadConfig({ CDP_CLIENT_IP: 'truncate' }).clientIp).toBe('truncate');
    expect(() => loadConfig({ CDP_CLIENT_IP: 'hash' })).toThrow(/CDP_CLIENT_IP/);
  });

  it('needs the Analytics consent category by default, and takes a list', () => {
    expect(loadConfig({}).consentCategories).toEqual(['Analytics']);
    expect(loadConfig({ CDP_CONSENT_CATEGORIES: 'Analytics, C0002' }).consentCategories).toEqual([
      'Analytics',
      'C0002',
    ]);
  });
});

describe('messaging channels', () => {
  it('configures no channel by default, and each one whose variables are set', () => {
    expect(loadConfig({}).channels).toMatchObject({ zalo: null, messenger: null, helpdesk: null });
    const channels = loadConfig({
      CDP_ZALO_APP_ID: '3608',
      CDP_ZALO_OA_SECRET: 'oa-secret',
      CDP_HELPDESK_SECRET: 'hd-secret',
      CDP_DEDUPE_WINDOW_HOURS: '48',
    }).channels;
    expect(channels).toEqual({
      zalo: { appId: '3608', oaSecret: 'oa-secret' },
      messenger: null,
      helpdesk: { name: 'helpdesk', secret: 'hd-secret' },
      maxAgeMs: 48 * 3_600_000,
    });
  });

  it('names the missing half of a pair, and a helpdesk name it cannot use', () => {
    expect(() => loadConfig({ CDP_ZALO_APP_ID: '3608' })).toThrow(
      /CDP_ZALO_OA_SECRET: must be set with CDP_ZALO_APP_ID/,
    );
    expect(() => loadConfig({ CDP_MESSENGER_VERIFY_TOKEN: 'token' })).toThrow(
      /CDP_MESSENGER_APP_SECRET: must be set with CDP_MESSENGER_VERIFY_TOKEN/,
    );
    expect(() => loadConfig({ CDP_HELPDESK_NAME: 'Zen Desk' })).toThrow(/CDP_HELPDESK_NAME/);
  });
});
