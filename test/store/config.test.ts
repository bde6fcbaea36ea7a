// Store-related configuration: secrets come from the environment and bad values stop the process naming the variable.
import { loadConfig } from '../../src/config.js';
import { hmacPatientKey, patientKeyFor } from '../../src/store/audit.js';

test.each([
  [{ PSEUDONYMIZE_PATIENT_IDS: 'true' }, /PATIENT_ID_KEY/],
  [{ PSEUDONYMIZE_PATIENT_IDS: 'true', PATIENT_ID_KEY: 'short' }, /PATIENT_ID_KEY/],
  [{ PSEUDONYMIZE_PATIENT_IDS: 'maybe', PATIENT_ID_KEY: 'k'.repeat(32) }, /PSEUDONYMIZE_PATIENT_IDS/],
  [{ ADMIN_TOKEN: 'too-short' }, /ADMIN_TOKEN/],
  [{ METRICS_REQUIRE_TOKEN: 'true' }, /METRICS_REQUIRE_TOKEN|ADMIN_TOKEN/],
  [{ RETENTION_DAYS: '0' }, /RETENTION_DAYS/],
])('%j is refused with a message naming the variable', (env, pattern) => {
  expect(() => loadConfig(env)).toThrow(pattern);
});

test('defaults: one year of retention, raw patient ids, no admin token, open metrics', () => {
  const c = loadConfig({});
  expect(c.audit).toMatchObject({ retentionDays: 365, pseudonymizePatientIds: false });
  expect(c.admin.token).toBe('');
  expect(c.metrics.requireAdminToken).toBe(false);
  const on = loadConfig({ PSEUDONYMIZE_PATIENT_IDS: '1', PATIENT_ID_KEY: 'k'.repeat(32), RETENTION_DAYS: '90', ADMIN_TOKEN: 'a'.repeat(20), METRICS_REQUIRE_TOKEN: 'yes' });
  expect(on.audit).toMatchObject({ retentionDays: 90, pseudonymizePatientIds: true });
  expect(on.metrics.requireAdminToken).toBe(true);
});

test('patient pseudonyms: keyed, stable, distinct per key, and identity when off', () => {
  const a = hmacPatientKey('k'.repeat(32));
  expect(a('123')).toBe(a('123'));
  expect(a('123')).not.toBe(a('124'));
  expect(hmacPatientKey('j'.repeat(32))('123')).not.toBe(a('123'));
  expect(a('123')).not.toContain('123');
  expect(patientKeyFor({ pseudonymize: false, key: '' })('123')).toBe('123');
  expect(() => hmacPatientKey('short')).toThrow(/16/);
});
