// The hook call in process (handleHook: validation → facts → evaluation → cards → audit record, no HTTP, no auth), for
// two jobs when the pipeline is changed for speed:
//   `npx tsx bench/hook-output.ts dump <file>`  every response body and audit record of a table of requests (synthetic
//       patients × drafts × hooks, ids from a counter), one JSON line per request: diff the file of the old and the new
//       build — a speed change must leave every byte as it was;
//   `npx tsx bench/hook-output.ts time [rounds]`  CPU per call (process.cpuUsage, µs) of the bench's warfarin,
//       clopidogrel and no-guidance calls;
//   `npx tsx bench/hook-output.ts ab <other checkout> [rounds]`  the same calls through this checkout's src/ (B) and
//       another's (A, e.g. `git archive <commit> | tar -x -C /tmp/old` with node_modules linked) in one process,
//       alternating batches of 50 calls, so both builds see the same machine load (the CPU of the whole process:
//       onnxruntime's and the GC's threads included).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FhirResource, MedicationRequest } from 'fhir/r4';
import type { HookEngine, HookOutcome } from '../src/cds/hookService.js';
import type { HookRecord, Store } from '../src/store/store.js';
import { DRAFT_SHAPES } from '../test/fixtures/draft-shapes.js';
import { draftOrder, ORAL } from '../test/fixtures/orders.js';
import { activeMed, draftClopidogrel, draftWarfarin, fullPrefetch, pharmvarGenotype } from '../test/fixtures/synthetic-patients.js';
import { amoxicillin, clopidogrel, cyp2c19 } from './requests.js';

const [mode = 'time', arg, arg2] = process.argv.slice(2);

const records: HookRecord[] = [];
const store = {
  kind: 'sqlite',
  patientKey: (id: string) => id,
  recordHook: async (r: HookRecord) => void records.push(r),
  overriddenFingerprints: async () => new Set<string>(),
} as unknown as Store;
let counter = 0;
type Handle = (hook: string, body: unknown) => Promise<HookOutcome>;

/** handleHook of the checkout at `root` (its own src/), with the same store stub and id counter. */
async function handlerAt(root: string): Promise<Handle> {
  const at = (f: string) => import(path.join(root, 'src', f));
  const [{ handleHook }, { loadServiceCatalog }, { CardTemplates }, { loadConfig }, { DrugDictionary }, { defaultRegistry }, { loadWarfarinModel }, { createLogger }] = await Promise.all(
    ['cds/hookService.ts', 'cds/services.ts', 'cards/render.ts', 'config.ts', 'domain/drugs.ts', 'dosing/registry.ts', 'model/warfarinModel.ts', 'observability/logger.ts'].map(at),
  );
  const engine: HookEngine = {
    config: loadConfig({}, { logLevel: 'silent' }),
    catalog: loadServiceCatalog(),
    drugs: DrugDictionary.load(),
    templates: CardTemplates.load(),
    store,
    logger: createLogger('silent'),
    evaluators: defaultRegistry({ warfarinModel: await loadWarfarinModel() }),
    newId: () => `id-${++counter}`,
  };
  return (hook, body) => handleHook(SERVICE[hook]!, body, client, engine);
}
const here = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const client = { iss: 'https://bench-ehr.local', jti: 'j' };

const withPatient = (d: MedicationRequest, patientId: string): MedicationRequest => ({ ...structuredClone(d), subject: { reference: `Patient/${patientId}` } });
function call(hook: string, patientId: string, drafts: MedicationRequest[], prefetch: Record<string, unknown>, n: number) {
  const bundle = { resourceType: 'Bundle', type: 'collection', entry: drafts.map((resource) => ({ resource })) };
  const context: Record<string, unknown> = { userId: 'Practitioner/bench', patientId };
  if (hook === 'order-select') Object.assign(context, { selections: drafts.map((d) => `MedicationRequest/${d.id}`), draftOrders: bundle });
  else if (hook === 'order-sign') context.draftOrders = bundle;
  else if (hook === 'medication-prescribe') context.medications = bundle;
  return { hook, hookInstance: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`, context, prefetch };
}
const SERVICE: Record<string, string> = { 'order-select': 'dosing-order-select', 'order-sign': 'dosing-order-sign', 'medication-prescribe': 'dosing-medication-prescribe', 'patient-view': 'dosing-monitor' };

/** The table: every synthetic patient (and pgx-1 with a CYP2C19 genotype and active orders) × drafts × hooks. */
function table(): { hook: string; body: unknown }[] {
  const extraActive: FhirResource[] = [activeMed('pgx-2-clop', 'pgx-2', '32968', 'clopidogrel 75 MG Oral Tablet'), activeMed('pgx-2-warf', 'pgx-2', '855332', 'warfarin sodium 5 MG Oral Tablet')];
  const pgx2 = [
    { ...(fullPrefetch('pgx-1') as { patient: object }).patient, id: 'pgx-2' },
    pharmvarGenotype('pgx-2-cyp2c19', 'pgx-2', 'HGNC:2621', 'CYP2C19', '*2/*2', '2025-03-01'),
    pharmvarGenotype('pgx-2-cyp2c9', 'pgx-2', 'HGNC:2623', 'CYP2C9', '*3/*3', '2025-03-01'),
    ...extraActive,
  ] as FhirResource[];
  const patients: [string, Record<string, unknown>][] = [
    ['pgx-1', fullPrefetch('pgx-1')],
    ['pgx-1', fullPrefetch('pgx-1', [cyp2c19])],
    ['clin-1', fullPrefetch('clin-1')],
    ['nohgt-1', fullPrefetch('nohgt-1')],
    ['cyp-1', fullPrefetch('cyp-1')],
    ['pgx-2', fullPrefetch('pgx-2', pgx2)],
  ];
  const drafts = (p: string): MedicationRequest[][] => [
    [draftWarfarin('w5', p, 5)],
    [draftWarfarin('w0', p)],
    [draftClopidogrel('c1', p)],
    [withPatient(clopidogrel, p)],
    [withPatient(amoxicillin, p)],
    [draftWarfarin('w5', p, 5), draftClopidogrel('c1', p)],
    [draftOrder('o1', p, { rxcui: '855332', text: 'warfarin sodium 5 MG Oral Tablet' }, { mg: 7.5, timing: { frequency: 1, period: 1, periodUnit: 'd' }, route: ORAL })],
    ...DRAFT_SHAPES.map((s) => [withPatient(s.resource, p)]),
  ];
  const out: { hook: string; body: unknown }[] = [];
  let n = 0;
  for (const [p, prefetch] of patients) {
    for (const hook of ['order-select', 'order-sign', 'medication-prescribe']) for (const d of drafts(p)) out.push({ hook, body: call(hook, p, d, prefetch, ++n) });
    out.push({ hook: 'patient-view', body: call('patient-view', p, [], prefetch, ++n) });
  }
  return out;
}

const scenarios = (): [string, string][] => [
  ['warfarin', JSON.stringify(call('order-select', 'pgx-1', [draftWarfarin('bench-w', 'pgx-1')], fullPrefetch('pgx-1'), 1))],
  ['clopidogrel', JSON.stringify(call('order-select', 'pgx-1', [clopidogrel], fullPrefetch('pgx-1', [cyp2c19]), 2))],
  ['amoxicillin', JSON.stringify(call('order-select', 'pgx-1', [amoxicillin], fullPrefetch('pgx-1'), 3))],
];
/** CPU (µs, whole process) of `n` calls of `raw`; the body is parsed per call, as express does, and the answer serialised. */
async function cpuOf(run: Handle, raw: string, n: number): Promise<number> {
  const c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    const out = await run('order-select', JSON.parse(raw));
    JSON.stringify(out.body);
    if (records.length > 64) records.length = 0;
  }
  const c = process.cpuUsage(c0);
  return c.user + c.system;
}

if (mode === 'dump') {
  const run = await handlerAt(here);
  const lines: string[] = [];
  for (const { hook, body } of table()) {
    counter = 0;
    records.length = 0;
    const out = await run(hook, structuredClone(body));
    // timings vary from run to run: everything else must not
    const recs = records.map((r) => ({ ...r, timings: undefined }));
    lines.push(JSON.stringify({ status: out.status, body: out.body, records: recs }));
  }
  writeFileSync(arg ?? '/dev/stdout', lines.join('\n') + '\n');
  console.error(`${lines.length} requests`);
} else if (mode === 'ab') {
  if (!arg) throw new Error('ab: the other checkout to compare with');
  const rounds = Number(arg2 ?? 3000);
  const a = await handlerAt(path.resolve(arg));
  const b = await handlerAt(here);
  const res: string[] = [];
  for (const [name, raw] of scenarios()) {
    for (let i = 0; i < 300; i++) await a('order-select', JSON.parse(raw)), await b('order-select', JSON.parse(raw));
    let ta = 0;
    let tb = 0;
    // alternating batches, the order of the pair swapped each time
    for (let done = 0, k = 0; done < rounds; done += 50, k++) {
      if (k % 2 === 0) (ta += await cpuOf(a, raw, 50)), (tb += await cpuOf(b, raw, 50));
      else (tb += await cpuOf(b, raw, 50)), (ta += await cpuOf(a, raw, 50));
    }
    const n = Math.ceil(rounds / 50) * 50;
    res.push(`${name} A ${(ta / n).toFixed(0)} B ${(tb / n).toFixed(0)} µs (B/A ${(tb / ta).toFixed(3)})`);
  }
  console.log(res.join('  '));
} else {
  const rounds = Number(arg ?? 3000);
  const run = await handlerAt(here);
  const res: string[] = [];
  for (const [name, raw] of scenarios()) {
    for (let i = 0; i < 300; i++) await run('order-select', JSON.parse(raw));
    records.length = 0;
    res.push(`${name} ${((await cpuOf(run, raw, rounds)) / rounds).toFixed(0)} µs`);
  }
  console.log(res.join('  '));
}
