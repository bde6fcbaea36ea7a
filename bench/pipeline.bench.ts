// In-process cost of one hook call's pipeline stages (no HTTP, no auth, no store): validation, orders, PatientFacts,
// evaluation (model + explanation, CPIC), cards, response JSON — for the bench's warfarin and clopidogrel calls.
// `npx tsx bench/pipeline.bench.ts [iterations]`; add `--cpu-prof` via NODE_OPTIONS to profile. Prints µs per stage.
import { randomUUID } from 'node:crypto';
import { loadConfig } from '../src/config.js';
import { ordersInScope } from '../src/cds/orders.js';
import { parseHookRequest } from '../src/cds/protocol.js';
import { CardTemplates, renderCard } from '../src/cards/render.js';
import { DrugDictionary } from '../src/domain/drugs.js';
import { defaultRegistry } from '../src/dosing/registry.js';
import { extractFacts } from '../src/fhir/facts.js';
import { gatherData } from '../src/fhir/gather.js';
import { loadWarfarinModel } from '../src/model/warfarinModel.js';
import { draftClopidogrel, draftWarfarin, fullPrefetch } from '../test/fixtures/synthetic-patients.js';

const N = Number(process.argv[2] ?? 2000);
const config = loadConfig({}, { logLevel: 'silent' });
const drugs = DrugDictionary.load();
const templates = CardTemplates.load();
const registry = defaultRegistry({ warfarinModel: await loadWarfarinModel() });

function body(patientId: string, draft: ReturnType<typeof draftWarfarin>) {
  return {
    hook: 'order-select',
    hookInstance: randomUUID(),
    context: { userId: 'Practitioner/example', patientId, selections: [`MedicationRequest/${draft.id}`], draftOrders: { resourceType: 'Bundle', type: 'collection', entry: [{ resource: draft }] } },
    prefetch: fullPrefetch(patientId),
  };
}

async function measure(name: string, raw: string): Promise<void> {
  const t = { parse: 0, validate: 0, orders: 0, gather: 0, facts: 0, evaluate: 0, cards: 0, json: 0 };
  for (let i = 0; i < N + 200; i++) {
    const keep = i >= 200;
    let t0 = performance.now();
    const b = JSON.parse(raw) as unknown;
    let t1 = performance.now();
    if (keep) t.parse += t1 - t0;
    const req = parseHookRequest(b, 'order-select');
    t0 = performance.now();
    if (keep) t.validate += t0 - t1;
    const orders = ordersInScope(req, drugs);
    t1 = performance.now();
    if (keep) t.orders += t1 - t0;
    const g = await gatherData({ queries: Object.fromEntries(Object.keys(req.prefetch!).map((k) => [k, undefined])), prefetch: req.prefetch, fhirServer: undefined, fhirAuthorization: undefined, deadlineMs: 1000, maxPages: 1, policy: { allowedServers: [], allowInsecureLoopback: false } });
    t0 = performance.now();
    if (keep) t.gather += t0 - t1;
    const facts = extractFacts(g, { patientId: req.context.patientId, now: new Date() });
    t1 = performance.now();
    if (keep) t.facts += t1 - t0;
    const recs = [];
    for (const o of orders) for (const d of o.drugs) recs.push(...(await registry.evaluate({ facts, order: o, drug: d, drugs, config, newId: randomUUID })));
    t0 = performance.now();
    if (keep) t.evaluate += t0 - t1;
    const cards = recs.map((r) => renderCard(r, orders[0], { templates, newId: randomUUID, smartLaunchUrl: 'http://x/smart/launch.html' })?.card).filter(Boolean);
    t1 = performance.now();
    if (keep) t.cards += t1 - t0;
    JSON.stringify({ cards });
    t0 = performance.now();
    if (keep) t.json += t0 - t1;
  }
  const us = (v: number) => ((v / N) * 1000).toFixed(0).padStart(5);
  const total = Object.values(t).reduce((a, b) => a + b, 0);
  console.log(`${name.padEnd(12)} ${Object.entries(t).map(([k, v]) => `${k} ${us(v)}`).join('  ')}  | total ${us(total)} µs`);
}

await measure('warfarin', JSON.stringify(body('pgx-1', draftWarfarin('mr-1', 'pgx-1', 5))));
await measure('clopidogrel', JSON.stringify(body('cyp-1', draftClopidogrel('mr-2', 'cyp-1'))));
