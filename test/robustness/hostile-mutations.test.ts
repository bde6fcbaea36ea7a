// Hostile input (issue #7), mutated hook bodies: fast-check mutations (deletions, hostile values, duplicated and
// prototype keys) of valid order-select, order-sign, medication-prescribe and patient-view calls, and random JSON
// documents on every service endpoint, through the real service (test/support/hostile-input.ts for the invariant).
//
// Reproduce a failure: FC_SEED=<seed printed in the failure> FC_RUNS=<n> (FC_SHRINK=1 to shrink the counterexample).
import fc from 'fast-check';
import { draftWarfarin, pharmvarGenotype } from '../fixtures/synthetic-patients.js';
import { assertInvariant, callHook, ENDPOINT, fcParams, MAX_MS, SEED, useHostileInputServices } from '../support/hostile-input.js';
import { applyMutations, asHook, describeMutation, HOOKS, hostileValue, mutationOf } from '../support/hostile-mutations.js';
import { invariantViolations, orderSelectBody, writeJson } from '../support/robustness.js';

const env = useHostileInputServices();

const mutation = mutationOf(orderSelectBody('http://127.0.0.1:1'));

describe(`mutated hook bodies (fast-check seed ${SEED})`, () => {
  test('one mutation anywhere in a valid order-select call', async () => {
    await fc.assert(
      fc.asyncProperty(mutation, async (m) => {
        const body = writeJson(applyMutations(orderSelectBody(env.stub.url), [m]));
        const r = await callHook(env.svc, body);
        try {
          assertInvariant(r, body);
        } catch (e) {
          throw new Error(`${describeMutation(m)}\n${(e as Error).message}`);
        }
      }),
      fcParams(150),
    );
  }, 120000);

  test('two to five mutations at once', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 2, maxLength: 5 }), async (ms) => {
        const body = writeJson(applyMutations(orderSelectBody(env.stub.url), ms));
        const r = await callHook(env.svc, body);
        try {
          assertInvariant(r, body);
        } catch (e) {
          throw new Error(`${ms.map(describeMutation).join(' | ')}\n${(e as Error).message}`);
        }
      }),
      fcParams(60),
    );
  }, 120000);

  test.each(['order-sign', 'medication-prescribe', 'patient-view'] as const)('one to three mutations of a valid %s call', async (hook) => {
    const m = mutationOf(asHook(orderSelectBody('http://127.0.0.1:1'), hook));
    await fc.assert(
      fc.asyncProperty(fc.array(m, { minLength: 1, maxLength: 3 }), async (ms) => {
        const body = writeJson(applyMutations(asHook(orderSelectBody(env.stub.url), hook), ms));
        const r = await callHook(env.svc, body, HOOKS[hook]);
        try {
          assertInvariant(r, body);
        } catch (e) {
          throw new Error(`${ms.map(describeMutation).join(' | ')}\n${(e as Error).message}`);
        }
      }),
      fcParams(40),
    );
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
    await fc.assert(
      fc.asyncProperty(fc.array(m, { minLength: 1, maxLength: 3 }), async (ms) => {
        const body = writeJson(applyMutations(make(env.stub.url), ms));
        const r = await callHook(env.svc, body, HOOKS['order-sign']);
        try {
          assertInvariant(r, body);
        } catch (e) {
          throw new Error(`${ms.map(describeMutation).join(' | ')}\n${(e as Error).message}`);
        }
      }),
      fcParams(60),
    );
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
