// Configuration loading (src/config.ts) and the FHIR server policy (src/fhir/gather.ts isFhirServerAllowed,
// bundleResources).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Bundle } from 'fhir/r4';
import { ConfigError, ENV_OVERRIDES, loadConfig } from '../../src/config.js';
import { isFhirServerAllowed, type FhirServerPolicy } from '../../src/fhir/egress.js';
import { bundleResources, DEFAULT_MAX_RESPONSE_BYTES } from '../../src/fhir/gather.js';

describe('loadConfig: defaults and environment overrides', () => {
  // Source: config/default.json and ENV_OVERRIDES in src/config.ts (the README's configuration table).
  test('defaults load (config/default.json)', () => {
    const c = loadConfig({});
    expect(c.port).toBe(8080);
    expect(c.publicBaseUrl).toBe('http://localhost:8080');
    expect(c.auth.mode).toBe('enforce');
    expect(c.fhir.allowedServers).toEqual([]);
    expect(c.requestDeadlineMs).toBeGreaterThan(c.fhir.deadlineMs);
    expect(c.cards.warfarinRoundingMgPerDay).toBe(0.5);
    expect(c.fhir.maxResponseBytes).toBe(DEFAULT_MAX_RESPONSE_BYTES); // absent from the file: 8 MiB
  });

  test('process.env is not needed: an explicit empty env gives the defaults even if the real env has PORT', () => {
    expect(loadConfig({}).port).toBe(8080);
  });

  test.each<[string, NodeJS.ProcessEnv, (c: ReturnType<typeof loadConfig>) => unknown, unknown]>([
    ['PORT', { PORT: '9090' }, (c) => c.port, 9090],
    ['PORT=0 (ephemeral)', { PORT: '0' }, (c) => c.port, 0],
    ['empty PORT is ignored', { PORT: '' }, (c) => c.port, 8080],
    ['HOST', { HOST: '0.0.0.0' }, (c) => c.host, '0.0.0.0'],
    ['PUBLIC_BASE_URL trailing slash stripped', { PUBLIC_BASE_URL: 'https://cds.example.org/' }, (c) => c.publicBaseUrl, 'https://cds.example.org'],
    ['PUBLIC_BASE_URL several trailing slashes stripped', { PUBLIC_BASE_URL: 'https://cds.example.org/base///' }, (c) => c.publicBaseUrl, 'https://cds.example.org/base'],
    ['PUBLIC_BASE_URL without slash unchanged', { PUBLIC_BASE_URL: 'https://cds.example.org:8443/x' }, (c) => c.publicBaseUrl, 'https://cds.example.org:8443/x'],
    ['FHIR_ALLOWED_SERVERS comma list (spaces trimmed, empties dropped)', { FHIR_ALLOWED_SERVERS: 'https://ehr.example.org/fhir, https://b.example.org/r4 ,,' }, (c) => c.fhir.allowedServers, ['https://ehr.example.org/fhir', 'https://b.example.org/r4']],
    ['FHIR_ALLOWED_SERVERS single', { FHIR_ALLOWED_SERVERS: 'https://ehr.example.org/fhir' }, (c) => c.fhir.allowedServers, ['https://ehr.example.org/fhir']],
    ['CDS_AUTH_MODE disabled', { CDS_AUTH_MODE: 'disabled' }, (c) => c.auth.mode, 'disabled'],
    ['CDS_AUTH_MODE enforce', { CDS_AUTH_MODE: 'enforce' }, (c) => c.auth.mode, 'enforce'],
    ['FHIR_DEADLINE_MS', { FHIR_DEADLINE_MS: '1000' }, (c) => c.fhir.deadlineMs, 1000],
    ['FHIR_MAX_RESPONSE_BYTES', { FHIR_MAX_RESPONSE_BYTES: '1048576' }, (c) => c.fhir.maxResponseBytes, 1048576],
    ['REQUEST_DEADLINE_MS', { REQUEST_DEADLINE_MS: '6000' }, (c) => c.requestDeadlineMs, 6000],
    ['both deadlines together', { FHIR_DEADLINE_MS: '8000', REQUEST_DEADLINE_MS: '9000' }, (c) => [c.fhir.deadlineMs, c.requestDeadlineMs], [8000, 9000]],
    ['LOG_LEVEL', { LOG_LEVEL: 'debug' }, (c) => c.logLevel, 'debug'],
    ['DATABASE_URL', { DATABASE_URL: 'postgres://u@db/cds' }, (c) => c.databaseUrl, 'postgres://u@db/cds'],
    ['DATABASE_URL empty → embedded SQLite', { DATABASE_URL: '' }, (c) => c.databaseUrl, ''],
    ['DATA_DIR', { DATA_DIR: '/var/lib/cds' }, (c) => c.dataDir, '/var/lib/cds'],
    ['SMART_LAUNCH_URL', { SMART_LAUNCH_URL: 'https://app.example.org/launch' }, (c) => c.smartLaunchUrl, 'https://app.example.org/launch'],
  ])('%s', (_n, env, get, expected) => {
    expect(get(loadConfig(env))).toEqual(expected);
  });

  test('programmatic overrides by dotted path', () => {
    const c = loadConfig({}, { 'fhir.maxPages': 2, 'auth.clockSkewSeconds': 0 });
    expect(c.fhir.maxPages).toBe(2);
    expect(c.auth.clockSkewSeconds).toBe(0);
    expect(c.fhir.deadlineMs).toBe(2500); // siblings kept
  });

  test('every ENV_OVERRIDES entry has a description', () => {
    for (const o of ENV_OVERRIDES) expect(o.description.length).toBeGreaterThan(0);
  });
});

describe('loadConfig: invalid values → ConfigError naming the env var', () => {
  // Source: src/config.ts contract: "throws ConfigError with every problem listed", each with its env variable.
  const fail = (env: NodeJS.ProcessEnv, overrides: Record<string, unknown> = {}): ConfigError => {
    try {
      loadConfig(env, overrides);
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      return e as ConfigError;
    }
    throw new Error('expected a ConfigError');
  };
  test.each<[string, NodeJS.ProcessEnv, string[]]>([
    ['PORT=abc', { PORT: 'abc' }, ['PORT']],
    ['PORT=70000', { PORT: '70000' }, ['PORT']],
    ['PORT=-1', { PORT: '-1' }, ['PORT']],
    ['PORT=80.5', { PORT: '80.5' }, ['PORT']],
    ['PUBLIC_BASE_URL not a URL', { PUBLIC_BASE_URL: 'cds.example.org' }, ['PUBLIC_BASE_URL']],
    ['CDS_AUTH_MODE=off', { CDS_AUTH_MODE: 'off' }, ['CDS_AUTH_MODE']],
    ['FHIR_ALLOWED_SERVERS with a non-URL', { FHIR_ALLOWED_SERVERS: 'https://ok.example.org,ehr.example.org' }, ['FHIR_ALLOWED_SERVERS']],
    ['FHIR_DEADLINE_MS=10 (below minimum)', { FHIR_DEADLINE_MS: '10' }, ['FHIR_DEADLINE_MS']],
    ['FHIR_MAX_RESPONSE_BYTES=1000 (below 64 KiB)', { FHIR_MAX_RESPONSE_BYTES: '1000' }, ['FHIR_MAX_RESPONSE_BYTES']],
    ['FHIR_MAX_RESPONSE_BYTES=8mb (not a number)', { FHIR_MAX_RESPONSE_BYTES: '8mb' }, ['FHIR_MAX_RESPONSE_BYTES']],
    ['FHIR_MAX_RESPONSE_BYTES=1e9 (above 256 MiB)', { FHIR_MAX_RESPONSE_BYTES: '1e9' }, ['FHIR_MAX_RESPONSE_BYTES']],
    ['REQUEST_DEADLINE_MS=soon', { REQUEST_DEADLINE_MS: 'soon' }, ['REQUEST_DEADLINE_MS']],
    ['LOG_LEVEL=loud', { LOG_LEVEL: 'loud' }, ['LOG_LEVEL']],
    ['requestDeadlineMs == fhir.deadlineMs', { FHIR_DEADLINE_MS: '3000', REQUEST_DEADLINE_MS: '3000' }, ['REQUEST_DEADLINE_MS', 'requestDeadlineMs must be larger than fhir.deadlineMs']],
    ['requestDeadlineMs < fhir.deadlineMs', { FHIR_DEADLINE_MS: '5000' }, ['REQUEST_DEADLINE_MS', 'larger than fhir.deadlineMs']],
    ['several problems are all listed', { PORT: 'abc', LOG_LEVEL: 'loud', CDS_AUTH_MODE: 'off' }, ['PORT', 'LOG_LEVEL', 'CDS_AUTH_MODE']],
  ])('%s', (_n, env, mentions) => {
    const e = fail(env);
    for (const m of mentions) expect(e.message).toContain(m);
    expect(e.name).toBe('ConfigError');
  });

  test('an override through the second argument is validated too', () => {
    expect(fail({}, { 'fhir.deadlineMs': 5000 }).message).toContain('requestDeadlineMs');
    expect(fail({}, { 'cards.warfarinRoundingMgPerDay': 0 }).message).toContain('cards.warfarinRoundingMgPerDay');
  });

  test('unknown configuration keys are rejected (typos do not pass silently)', () => {
    expect(fail({}, { 'fhir.deadlineMS': 100 }).message).toMatch(/fhir/);
  });

  describe('CONFIG_FILE', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'config-test-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    test('missing file → ConfigError "cannot read"', () => {
      expect(fail({ CONFIG_FILE: path.join(dir, 'nope.json') }).message).toMatch(/cannot read configuration file/);
    });
    test('invalid JSON → ConfigError', () => {
      const f = path.join(dir, 'bad.json');
      writeFileSync(f, '{ "port": ');
      expect(fail({ CONFIG_FILE: f }).message).toMatch(/cannot read configuration file/);
    });
    test('a file missing required fields → ConfigError listing them', () => {
      const f = path.join(dir, 'partial.json');
      writeFileSync(f, JSON.stringify({ port: 1 }));
      const msg = fail({ CONFIG_FILE: f }).message;
      expect(msg).toContain('host');
      expect(msg).toContain('publicBaseUrl (env PUBLIC_BASE_URL)');
    });
  });
});

describe('isFhirServerAllowed', () => {
  // Source: CDS Hooks 2.0.1 security considerations (the service sends the EHR's access token to fhirServer, so only
  // trusted servers over TLS); WHATWG URL parsing (userinfo, host boundaries, dot-segment removal).
  const none: FhirServerPolicy = { allowedServers: [], allowInsecureLoopback: false };
  const noneLoop: FhirServerPolicy = { allowedServers: [], allowInsecureLoopback: true };
  const loop = ['http://localhost:8080', 'http://127.0.0.1:8103', 'http://[::1]:8080', 'http://ehr.example.org', 'http://localhost.evil.com', 'http://127.0.0.1.nip.io'];
  const loopListed: FhirServerPolicy = { allowedServers: loop, allowInsecureLoopback: true };
  const loopListedProd: FhirServerPolicy = { allowedServers: [...loop, 'https://127.0.0.1:8443', 'https://localhost'], allowInsecureLoopback: false };
  const listed: FhirServerPolicy = { allowedServers: ['https://ehr.example.org'], allowInsecureLoopback: false };
  const listedPath: FhirServerPolicy = { allowedServers: ['https://ehr.example.org/fhir/'], allowInsecureLoopback: true };
  test.each<[string, string, FhirServerPolicy, boolean]>([
    ['https, nothing named: not contacted (the default)', 'https://any.example.com/fhir', none, false],
    ['http loopback, nothing named, development setting on', 'http://localhost:8080/fhir', noneLoop, false],
    ['http on a public host, even named and with the development setting', 'http://ehr.example.org/fhir', loopListed, false],
    ['http://localhost, named, development setting', 'http://localhost:8080/fhir', loopListed, true],
    ['http://127.0.0.1, named, development setting', 'http://127.0.0.1:8103/fhir/R4', loopListed, true],
    ['http://[::1], named, development setting', 'http://[::1]:8080/fhir', loopListed, true],
    ['http://localhost, named, without the development setting', 'http://localhost:8080/fhir', loopListedProd, false],
    ['https to loopback, named, without the development setting', 'https://127.0.0.1:8443/fhir', loopListedProd, false],
    ['https://localhost, named, without the development setting', 'https://localhost/fhir', loopListedProd, false],
    ['http://localhost.evil.com is not loopback (and is http)', 'http://localhost.evil.com/fhir', loopListed, false],
    ['http://127.0.0.1.nip.io is not loopback (and is http)', 'http://127.0.0.1.nip.io/fhir', loopListed, false],
    ['ftp scheme', 'ftp://ehr.example.org/fhir', listed, false],
    ['not a URL', 'ehr.example.org/fhir', listed, false],
    ['empty string', '', listed, false],
    ['user:pass in the URL', 'https://user:pass@ehr.example.org/fhir', listed, false],
    ['user only in the URL', 'https://user@ehr.example.org/fhir', listed, false],
    ['a query on the base URL', 'https://ehr.example.org/fhir?x=1', listed, false],
    ['a fragment on the base URL', 'https://ehr.example.org/fhir#x', listed, false],
    ['allowlist: exact origin', 'https://ehr.example.org', listed, true],
    ['allowlist: path under the prefix', 'https://ehr.example.org/fhir/R4', listed, true],
    ['allowlist: trailing slash', 'https://ehr.example.org/', listed, true],
    ['allowlist: prefix as a host prefix must not match', 'https://ehr.example.org.evil.com', listed, false],
    ['allowlist: host prefix with path', 'https://ehr.example.org.evil.com/fhir', listed, false],
    ['allowlist: userinfo trick', 'https://ehr.example.org@evil.com/fhir', listed, false],
    ['allowlist: other port', 'https://ehr.example.org:8443/fhir', listed, false],
    ['allowlist: other host', 'https://other.example.org/fhir', listed, false],
    ['allowlist: http to an allowlisted https host', 'http://ehr.example.org/fhir', listed, false],
    ['allowlist with path: exact', 'https://ehr.example.org/fhir', listedPath, true],
    ['allowlist with path: below', 'https://ehr.example.org/fhir/R4', listedPath, true],
    ['allowlist with path: sibling path with the same prefix', 'https://ehr.example.org/fhirX', listedPath, false],
    ['allowlist with path: other path', 'https://ehr.example.org/admin', listedPath, false],
    // "/fhir/../admin" is sent to /admin by every HTTP client (dot segments are removed when the URL is parsed)
    ['allowlist with path: ".." escapes the prefix', 'https://ehr.example.org/fhir/../admin', listedPath, false],
    ['allowlist with path: encoded "%2e%2e" escapes the prefix', 'https://ehr.example.org/fhir/%2e%2e/admin', listedPath, false],
    ['allowlist: http loopback not listed', 'http://localhost:8080/fhir', listedPath, false],
  ])('%s: %s', (_n, url, policy, ok) => {
    expect(isFhirServerAllowed(url, policy)).toBe(ok);
  });
});

describe('bundleResources', () => {
  // Source: FHIR R4 Bundle.entry.search.mode ("match" | "include" | "outcome"); an OperationOutcome entry reports
  // on the search, it is not a result.
  test.each<[string, unknown, string[]]>([
    ['matches and includes', { resourceType: 'Bundle', type: 'searchset', entry: [{ resource: { resourceType: 'Observation', id: 'a' }, search: { mode: 'match' } }, { resource: { resourceType: 'Patient', id: 'p' }, search: { mode: 'include' } }] }, ['Observation/a', 'Patient/p']],
    ['OperationOutcome entry dropped', { resourceType: 'Bundle', entry: [{ resource: { resourceType: 'OperationOutcome', issue: [] } }, { resource: { resourceType: 'Observation', id: 'a' } }] }, ['Observation/a']],
    ['search.mode outcome dropped', { resourceType: 'Bundle', entry: [{ resource: { resourceType: 'Observation', id: 'x' }, search: { mode: 'outcome' } }] }, []],
    ['entries without a resource / junk dropped', { resourceType: 'Bundle', entry: [{}, null, { resource: null }, { resource: 'x' }, { resource: [] }, { resource: { id: 'no-type' } }, { fullUrl: 'urn:uuid:1' }] }, []],
    ['no entry', { resourceType: 'Bundle', type: 'searchset', total: 0 }, []],
    ['entry not an array', { resourceType: 'Bundle', entry: { resource: { resourceType: 'Patient', id: 'p' } } }, []],
  ])('%s', (_n, b, refs) => {
    expect(bundleResources(b as Bundle).map((r) => `${r.resourceType}/${r.id ?? ''}`)).toEqual(refs);
  });
});
