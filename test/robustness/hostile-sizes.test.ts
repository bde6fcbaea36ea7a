// Hostile input (issue #7), sizes: 10,000 draft orders, selections and Observations (and the 1,000 drafts the schema
// allows) → a quick 4xx or a bounded, conformant answer, through the real service with a 32 MB body limit
// (test/support/hostile-input.ts).
import { draftWarfarin, vital } from '../fixtures/synthetic-patients.js';
import { assertInvariant, callHook, useHostileInputServices } from '../support/hostile-input.js';
import { orderSelectBody, proposedDoses, writeJson } from '../support/robustness.js';

const env = useHostileInputServices({ big: true });

describe('10,000 of everything', () => {
  const many = (n: number, f: (i: number) => unknown) => Array.from({ length: n }, (_, i) => f(i));

  test('10,000 draft orders and 10,000 selections → a quick 4xx, or a bounded answer', async () => {
    const drafts = many(10_000, (i) => ({ resource: draftWarfarin(`mr-${i}`, 'pgx-1', 5) }));
    const b = orderSelectBody(env.stub.url) as { context: Record<string, any> };
    b.context['draftOrders'] = { resourceType: 'Bundle', entry: drafts };
    b.context['selections'] = many(10_000, (i) => `MedicationRequest/mr-${i}`);
    const body = writeJson(b);
    const r = await callHook(env.bigSvc, body);
    assertInvariant(r, body.slice(0, 500));
  });

  test('10,000 selections of one draft', async () => {
    const b = orderSelectBody(env.stub.url) as { context: Record<string, any> };
    b.context['selections'] = many(10_000, () => 'MedicationRequest/mr-1');
    const r = await callHook(env.bigSvc, writeJson(b));
    assertInvariant(r, '10,000 selections');
  });

  test('1,000 selected warfarin drafts (the most the schema allows): bounded time, unique uuids, every dose in bounds', async () => {
    const b = orderSelectBody(env.stub.url) as { context: Record<string, any> };
    b.context['draftOrders'] = { resourceType: 'Bundle', entry: many(1000, (i) => ({ resource: draftWarfarin(`mr-${i}`, 'pgx-1', (i % 40) / 2) })) };
    b.context['selections'] = many(1000, (i) => `MedicationRequest/mr-${i}`);
    const r = await callHook(env.bigSvc, writeJson(b));
    assertInvariant(r, '1,000 drafts');
    expect(r.status).toBe(200);
  });

  test('10,000 Observations in a prefetch Bundle (weights, some absurd, some other patients)', async () => {
    const b = orderSelectBody(env.stub.url);
    const entries = many(10_000, (i) => ({
      resource: vital(`w-${i}`, i % 7 === 0 ? 'someone-else' : 'pgx-1', '29463-7', 'Body weight', i % 11 === 0 ? 5000 : 40 + (i % 80), i % 5 === 0 ? '[lb_av]' : 'kg', 'kg', `2026-${String(1 + (i % 12)).padStart(2, '0')}-01`),
    }));
    (b['prefetch'] as Record<string, unknown>)['weight'] = { resourceType: 'Bundle', type: 'searchset', entry: entries };
    const body = writeJson(b);
    const r = await callHook(env.bigSvc, body);
    assertInvariant(r, '10,000 observations');
    expect(r.status).toBe(200);
    expect(proposedDoses(r.json)).toHaveLength(1);
  });

  test('10,000 Observations of every kind in every prefetch key', async () => {
    const b = orderSelectBody(env.stub.url);
    const pre = b['prefetch'] as Record<string, unknown>;
    const codes = ['29463-7', '8302-2', '2160-0', '6301-6', '84413-4', '98979-8'];
    for (const k of ['weight', 'height', 'renal', 'inr', 'genomics']) {
      pre[k] = { resourceType: 'Bundle', type: 'searchset', entry: many(2000, (i) => ({ resource: vital(`${k}-${i}`, 'pgx-1', codes[i % codes.length]!, 'x', (i % 300) + 0.5, 'kg', 'kg', '2026-10-01') })) };
    }
    const r = await callHook(env.bigSvc, writeJson(b));
    assertInvariant(r, '5 × 2,000 observations');
  });
});
