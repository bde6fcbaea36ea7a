// Hostile input (issue #7), mutated hook bodies: fast-check mutations (deletions, hostile values, duplicated and
// prototype keys) of valid order-select, order-sign, medication-prescribe and patient-view calls, and random JSON
// documents on every service endpoint, through the real service (test/support/hostile-input.ts for the invariant).
//
// Reproduce a failure: FC_SEED=<seed printed in the failure> FC_RUNS=<n> (FC_SHRINK=1 to shrink the counterexample).
import fc from 'fast-check';
import { draftWarfarin, pharmvarGenotype } from '../fixtures/synthetic-patients.js';
import { assertInvariant, callHook, ENDPOINT, fcParams, MAX_MS, SEED, useHostileInputServices } from '../support/hostile-input.js';
import { applyMutations, asHook, describeMutation, HOOKS, hostileValue, mutationOf, type Mutation } from '../support/hostile-mutations.js';
import { invariantViolations, orderSelectBody, writeJson } from '../support/robustness.js';

const env = useHostileInputServices();

const mutation = mutationOf(orderSelectBody('http://127.0.0.1:1'));

/** fast-check: each generated list of mutations, applied to `make(stub URL)` and sent to `path`, keeps the invariant; a failure names them. */
async function assertMutationsHold(mutations: fc.Arbitrary<Mutation[]>, make: (fhirServer: string) => Record<string, unknown>, numRuns: number, path = ENDPOINT): Promise<void> {
  await fc.assert(
    fc.asyncProperty(mutations, async (ms) => {
      const body = writeJson(applyMutations(make(env.stub.url), ms));
      const r = await callHook(env.svc, body, path);
      try {
        assertInvariant(r, body);
      } catch (e) {
        throw new Error(`${ms.map(describeMutation).join(' | ')}\n${(e as Error).message}`);
      }
    }),
    fcParams(numRuns),
  );
}

describe(`mutated hook bodies (fast-check seed ${SEED})`, () => {
  test('one mutation anywhere in a valid order-select call', async () => {
    await assertMutationsHold(mutation.map((m) => [m]), (fhirServer) => orderSelectBody(fhirServer), 150);
  }, 120000);

  test('two to five mutations at once', async () => {
    await assertMutationsHold(fc.array(mutation, { minLength: 2, maxLength: 5 }), (fhirServer) => orderSelectBody(fhirServer), 60);
  }, 120000);

  test.each(['order-sign', 'medication-prescribe', 'patient-view'] as const)('one to three mutations of a valid %s call', async (hook) => {
    const m = mutationOf(asHook(orderSelectBody('http://127.0.0.1:1'), hook));
    await assertMutationsHold(fc.array(m, { minLength: 1, maxLength: 3 }), (fhirServer) => asHook(orderSelectBody(fhirServer), hook), 40, HOOKS[hook]);
  }, 120000);

  test('one to three mutations of an order-sign call with warfarin, clopidogrel and codeine drafts (CPIC guidance path)', async () => {
    const make = (fhirServer: string) => {
      const b = asHook(orderSelectBody(fhirServer), 'order-sign');
      const pre = b['prefetch'] as Record<string, any>;
      pre['genomics'].entry.push({ resource: pharmvarGenotype('pgx-1-2c19', 'pgx-1', 'HGNC:2621', 'CYP2C19', '*2/*2', '2025-06-01') });
      pre['genomics'].entry.push({ resource: pharmvarGenotype('pgx-1-2d6', 'pgx-1', 'HGNC:2625', 'CYP2D6', '*1/*2x2', '2024-02-01') });
      const other = (id: string, code: string, display: string, doseMg: number) => ({
        ...draftWarfarin(id, 'pgx-1', doseMg),
        medicationCodeableConcept: { coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code, display }], text: display },
      });
      (b['context'] as any).draftOrders.entry.push({ resource: other('mr-2', '32968', 'clopidogrel', 75) }, { resource: other('mr-3', '2670', 'codeine', 30) });
      return b;
    };
    const base = await callHook(env.svc, writeJson(make(env.stub.url)), HOOKS['order-sign']);
    assertInvariant(base, 'unmutated order-sign with three drafts');
    expect(base.json.cards.length).toBeGreaterThanOrEqual(2); // warfarin dose + at least one CPIC card
    const m = mutationOf(make('http://127.0.0.1:1'));
    await assertMutationsHold(fc.array(m, { minLength: 1, maxLength: 3 }), make, 60, HOOKS['order-sign']);
  }, 120000);

  test('random JSON documents as the whole body and on every service endpoint', async () => {
    const paths = [ENDPOINT, '/cds-services/dosing-order-sign', '/cds-services/dosing-medication-prescribe', '/cds-services/dosing-order-select/feedback'];
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.jsonValue({ maxDepth: 4 }), hostileValue), fc.constantFrom(...paths), async (v, path) => {
        const body = writeJson(v);
        const r = await callHook(env.svc, body, path);
        const isFeedback = path.endsWith('/feedback');
        const v2 = isFeedback ? (r.status >= 400 && r.status < 500 && typeof r.json?.error === 'string' ? [] : [`feedback answered ${r.status}: ${r.text.slice(0, 200)}`]) : invariantViolations(r, MAX_MS);
        if (v2.length > 0) throw new Error(`${path}: ${v2.join('; ')} — body ${body.slice(0, 500)}`);
      }),
      fcParams(60),
    );
  }, 120000);
});
