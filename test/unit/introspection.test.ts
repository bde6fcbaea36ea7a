// Reading an RFC 7662 introspection answer (src/smart/introspection.ts). Source: RFC 7662 §2.2 — `active` is a
// REQUIRED boolean; a token is active only when it is exactly true; `exp` (seconds) when present bounds it.
import { readIntrospection } from '../../src/smart/introspection.js';

const NOW = 1_800_000_000_000; // ms
const nowSec = NOW / 1000;

test.each([
  ['active with patient and future exp', { active: true, patient: 'p1', exp: nowSec + 60 }, { active: true, patient: 'p1', exp: nowSec + 60 }],
  ['active without patient', { active: true }, { active: true }],
  ['active: "true" (a string) is not active', { active: 'true', patient: 'p1' }, { active: false }],
  ['active: 1 is not active', { active: 1 }, { active: false }],
  ['no active member', { patient: 'p1' }, { active: false }],
  ['active: false', { active: false, patient: 'p1' }, { active: false }],
  ['active but exp passed', { active: true, patient: 'p1', exp: nowSec - 1 }, { active: false }],
  ['empty patient is no patient', { active: true, patient: '' }, { active: true }],
  ['non-string patient is no patient', { active: true, patient: 42 }, { active: true }],
  ['an array', [{ active: true }], { active: false }],
  ['null', null, { active: false }],
])('%s', (_n, body, expected) => {
  expect(readIntrospection(body, NOW)).toEqual(expected);
});
