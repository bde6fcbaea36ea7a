// One spelling per FHIR server (src/domain/tenant.ts) and the control-character rule (src/domain/text.ts).
import { normalizeFhirServer, tenantOf } from '../../src/domain/tenant.js';
import { findControl, stripControls, stripControlsDeep } from '../../src/domain/text.js';

test('FHIR servers: scheme and host lower-case, default port and trailing slashes dropped, path case kept', () => {
  expect(normalizeFhirServer('HTTPS://EHR.Example.org:443/FHIR/R4/')).toBe('https://ehr.example.org/FHIR/R4');
  expect(normalizeFhirServer('https://ehr.example.org/fhir//')).toBe('https://ehr.example.org/fhir');
  expect(normalizeFhirServer('http://127.0.0.1:8080/#x')).toBe('http://127.0.0.1:8080');
  expect(normalizeFhirServer(undefined)).toBeUndefined();
  expect(normalizeFhirServer('')).toBeUndefined();
  expect(tenantOf('https://iss', 'HTTPS://A.test/fhir/')).toEqual({ iss: 'https://iss', fhirServer: 'https://a.test/fhir' });
  expect(tenantOf('https://iss', undefined)).toEqual({ iss: 'https://iss' });
});

test('control characters: found by path (values and keys), stripped from typed text; tab, LF and CR are not controls here', () => {
  expect(findControl({ a: ['ok', 'x\u0000'] })).toBe('a[1]');
  expect(findControl({ a: { ['k\u001f']: 1 } })).toBe('a.(key)');
  expect(findControl({ a: 'tab\there\nand\r' })).toBeUndefined();
  expect(findControl('\u007f')).toBeUndefined(); // DEL is not C0
  expect(stripControls('a\u0000b\u001bc\td')).toBe('abc\td');
  expect(stripControlsDeep({ ['k\u0000']: ['v\u0001'] })).toEqual({ k: ['v'] });
});
