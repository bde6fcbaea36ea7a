// The SMART app words its failure screen from the API's stable `reason` code (src/smart/router.ts). Every code the
// service can answer with must lead to a screen that says what happened — a new server reason without wording would
// show the generic "could not be shown" screen and, for an expired or revoked token, offer a useless "Try again".
import { FAILURES } from '../../src/smart/router.js';
import { classify, FAILURE_TEXT, REASON_KIND } from '../../smart-app/src/failure.js';
import { ApiError } from '../../smart-app/src/errors.js';

const reasons = [...Object.keys(FAILURES), 'not-found'];

test.each(reasons)('server reason %s has a failure screen', (reason) => {
  const kind = REASON_KIND[reason];
  expect(kind).toBeDefined();
  expect(FAILURE_TEXT[kind!]).toBeDefined();
});

test.each([
  ['token-inactive', 401, 'session'],
  ['token-rejected', 401, 'session'],
  ['patient-mismatch', 403, 'no-access'],
  ['introspection-unavailable', 502, 'fhir-unavailable'],
] as const)('%s (HTTP %i) → the %s screen', (reason, status, kind) => {
  expect(classify(new ApiError(status, reason, FAILURES[reason][1]), 'api').kind).toBe(kind);
});
