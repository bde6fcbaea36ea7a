// Bounded work per prefetch key (src/fhir/gather.ts): a Bundle with more resources than any search asks for is cut to
// MAX_RESOURCES_PER_KEY, first (newest, as the templates sort) kept, and the key is marked incomplete.
import type { Bundle, Observation } from 'fhir/r4';
import { gatherData, MAX_RESOURCES_PER_KEY } from '../../src/fhir/gather.js';

const weight = (i: number): Observation => ({
  resourceType: 'Observation',
  id: `w${i}`,
  status: 'final',
  code: { coding: [{ system: 'http://loinc.org', code: '29463-7' }] },
  subject: { reference: 'Patient/p1' },
  valueQuantity: { value: 70, code: 'kg', system: 'http://unitsofmeasure.org' },
});
const bundle = (n: number): Bundle => ({ resourceType: 'Bundle', type: 'searchset', entry: Array.from({ length: n }, (_, i) => ({ resource: weight(i) })) });
const gather = (prefetch: Record<string, unknown>) =>
  gatherData({ queries: { weight: undefined }, prefetch, fhirServer: undefined, fhirAuthorization: undefined, deadlineMs: 1000, maxPages: 5, policy: { allowedServers: [], allowInsecureLoopback: false } });

test.each([
  [10, 10, false],
  [MAX_RESOURCES_PER_KEY, MAX_RESOURCES_PER_KEY, false],
  [MAX_RESOURCES_PER_KEY + 1, MAX_RESOURCES_PER_KEY, true],
  [70_000, MAX_RESOURCES_PER_KEY, true],
])('a prefetch Bundle of %i resources → %i kept, incomplete: %s', async (n, kept, incomplete) => {
  const g = await gather({ weight: bundle(n) });
  expect(g.byKey['weight']!.resources).toHaveLength(kept);
  expect(g.byKey['weight']!.resources[0]!.id).toBe('w0');
  expect(g.byKey['weight']!.incomplete === true).toBe(incomplete);
  expect(g.byKey['weight']!.status).toBe('prefetch');
});
