// DPWG guidance beside CPIC end to end: real FHIR server process + real service with signed JWTs. Each case runs with
// a full prefetch (no FHIR query) and without prefetch (the service queries FHIR itself); one service leads with CPIC
// (the default pgx.sources) and one with DPWG (pgx.sources ["dpwg", "cpic"]).
// Sources: ../shared/data/dpwg/DPWG_metoprolol_and_CYP2D6.json (PA166302521, CYP2D6 activity score 0.0),
// DPWG_voriconazole_and_CYP2C19.json (PA166299276, Poor Metabolizer: 50% of the standard dose) against the CPIC
// voriconazole row (choose an alternative), DPWG_acenocoumarol_and_VKORC1.json (PA166299301, -1639 AA).
import type { FhirResource, MedicationRequest } from 'fhir/r4';
import { patient, pharmvarGenotype, textGenotype } from '../fixtures/synthetic-patients.js';
import { startFhirServer, type RunningFhirServer } from '../support/fhir-server/index.js';
import { startTestService, type TestService } from '../support/service.js';
import { pgxCall, pgxDraft } from '../support/pgx-hooks.js';

const TOKEN = 'ehr-access-token-dpwg';
let fhir: RunningFhirServer;
let svc: TestService;
let dpwgFirst: TestService;

/** The synthetic cohort (no real data). */
function resources(): FhirResource[] {
  return [
    patient('dpwg-meto', '1961-03-03', 'male'),
    pharmvarGenotype('dpwg-meto-2d6', 'dpwg-meto', 'HGNC:2625', 'CYP2D6', '*4/*4', '2024-05-01'),
    patient('dpwg-vori', '1976-08-08', 'female'),
    pharmvarGenotype('dpwg-vori-2c19', 'dpwg-vori', 'HGNC:2621', 'CYP2C19', '*2/*2', '2025-02-02'),
    patient('dpwg-aceno', '1950-01-20', 'male'),
    textGenotype('dpwg-aceno-vk', 'dpwg-aceno', 'HGNC:23663', 'VKORC1', 'VKORC1 rs9923231 T/T', '2023-04-04'),
    patient('dpwg-nm', '1980-10-10', 'female'),
    pharmvarGenotype('dpwg-nm-2d6', 'dpwg-nm', 'HGNC:2625', 'CYP2D6', '*1/*1', '2024-05-01'),
  ];
}

beforeAll(async () => {
  [fhir, svc, dpwgFirst] = await Promise.all([
    startFhirServer({ token: TOKEN, seed: resources() }),
    startTestService({ 'fhir.deadlineMs': 1500, requestDeadlineMs: 3000 }),
    startTestService({ 'fhir.deadlineMs': 1500, requestDeadlineMs: 3000, 'pgx.sources': ['dpwg', 'cpic'] }),
  ]);
  svc.allowFhirServer(fhir.url);
  dpwgFirst.allowFhirServer(fhir.url);
}, 30000);
afterAll(async () => {
  await Promise.all([fhir?.stop(), svc?.close(), dpwgFirst?.close()]);
});
beforeEach(async () => {
  await fhir.admin.setFault({ mode: 'none' });
  await fhir.admin.clearRequests();
});

const draft = pgxDraft;
const call = (patientId: string, mr: MedicationRequest, withPrefetch: boolean, service: TestService = svc, hook: 'order-select' | 'order-sign' = 'order-select') =>
  pgxCall({ svc: service, fhir: fhir, token: TOKEN, resources: resources(), patientId, order: mr, withPrefetch, hook });

describe.each([
  ['with prefetch', true],
  ['without prefetch (the service queries FHIR)', false],
])('DPWG beside CPIC %s', (_label, withPrefetch) => {
  test('metoprolol (DPWG only), CYP2D6 *4/*4 → a DPWG card: the recommendation, strength N/A, guideline name, version, PharmGKB URL and data date', async () => {
    const { cards } = await call('dpwg-meto', draft(`meto-${withPrefetch}`, 'dpwg-meto', '6918', 'metoprolol tartrate 50 MG Oral Tablet', 50), withPrefetch);
    expect(cards).toHaveLength(1);
    const c = cards[0];
    expect(c.indicator).toBe('warning');
    expect(c.summary).toBe('Metoprolol: CYP2D6 Poor Metabolizer (activity score 0.0) — adjust the dose (DPWG)');
    expect(c.detail).toContain('DPWG recommendation for metoprolol (strength: **N/A** — DPWG does not grade its recommendations):');
    expect(c.detail).toContain('- Use smaller steps in dose titration and/or prescribe no more than 25% of the standard dose.');
    expect(c.detail).toContain('| CYP2D6 | \\*4/\\*4 | Poor Metabolizer (activity score 0.0) |');
    expect(c.detail).toContain('Source: [DPWG Guideline for metoprolol and CYP2D6](https://www.pharmgkb.org/guidelineAnnotation/PA166104995) — DPWG guideline version 35 via PharmCAT, data date 2024-03-25.');
    expect(c.detail).toContain('DPWG recommendation PA166302521 (Dutch Pharmacogenetics Working Group, KNMP');
    expect(c.detail).not.toContain('CPIC');
    expect(c.source.url).toBe('https://www.pharmgkb.org/guidelineAnnotation/PA166104995');
    expect(c.source.topic.code).toBe('pgx-dose');
  });

  test('voriconazole, CYP2C19 *2/*2 → CPIC leads (alternative), the DPWG 50% row beside it, the disagreement in one line', async () => {
    const { cards } = await call('dpwg-vori', draft(`vori-${withPrefetch}`, 'dpwg-vori', '121243', 'voriconazole 200 MG Oral Tablet', 200), withPrefetch);
    expect(cards).toHaveLength(1);
    const c = cards[0];
    expect(c.summary).toBe('Voriconazole: CYP2C19 Poor Metabolizer — consider an alternative (CPIC Moderate)');
    expect(c.detail).toContain('**Guideline sources disagree.** CPIC: choose an alternative; DPWG: adjust the dose — the sources disagree; the suggestion follows CPIC (configuration pgx.sources).');
    expect(c.detail).toContain('| DPWG | Use 50% of the standard dose and monitor the plasma concentration. | N/A | [DPWG Guideline for voriconazole and CYP2C19](https://www.pharmgkb.org/guidelineAnnotation/PA166104990) — DPWG guideline version 28 via PharmCAT, data date 2024-03-25 |');
    expect(c.detail).toMatch(/\| CPIC \(leads\) \| shown above \| Moderate \| \[/);
    expect((c.suggestions ?? []).map((s: any) => s.label).some((l: string) => /^Reduce/.test(l))).toBe(false);
  });

  test('voriconazole, CYP2C19 *2/*2, pgx.sources dpwg,cpic → DPWG leads: update the draft to 100 mg, CPIC beside it', async () => {
    const { cards } = await call('dpwg-vori', draft(`vori-d-${withPrefetch}`, 'dpwg-vori', '121243', 'voriconazole 200 MG Oral Tablet', 200), withPrefetch, dpwgFirst);
    expect(cards).toHaveLength(1);
    const c = cards[0];
    expect(c.summary).toBe('Voriconazole: CYP2C19 Poor Metabolizer — reduce the dose by 50% (DPWG)');
    expect(c.detail).toContain('the suggestion follows DPWG (configuration pgx.sources)');
    expect(c.detail).toMatch(/\| CPIC \| .+ \| Moderate \| \[/);
    expect(c.suggestions).toHaveLength(1);
    expect(c.suggestions[0].label).toMatch(/^Reduce voriconazole to 100 mg per dose/);
    const update = c.suggestions[0].actions[0];
    expect(update.type).toBe('update');
    expect(update.resource.dosageInstruction[0].doseAndRate[0].doseQuantity.value).toBe(100);
  });

  test('acenocoumarol (DPWG only), VKORC1 rs9923231 T/T (-1639 AA) → the DPWG -1639 AA row', async () => {
    const { cards } = await call('dpwg-aceno', draft(`aceno-${withPrefetch}`, 'dpwg-aceno', '154', 'acenocoumarol 1 MG Oral Tablet'), withPrefetch);
    expect(cards).toHaveLength(1);
    expect(cards[0].summary).toMatch(/^Acenocoumarol: VKORC1 -1639 AA — reduce the dose by 50% \(DPWG\)$/);
    expect(cards[0].detail).toContain('DPWG recommendation PA166299301');
  });

  test('codeine, CYP2D6 *1/*1: CPIC and DPWG both say no action → no card', async () => {
    const { cards } = await call('dpwg-nm', draft(`cod-nm-${withPrefetch}`, 'dpwg-nm', '2670', 'codeine sulfate 30 MG Oral Tablet'), withPrefetch);
    expect(cards).toEqual([]);
  });

  test('metoprolol, CYP2D6 *1/*1 (DPWG: no recommendation for normal metabolizers) → no card', async () => {
    const { cards } = await call('dpwg-nm', draft(`meto-nm-${withPrefetch}`, 'dpwg-nm', '6918', 'metoprolol tartrate 50 MG Oral Tablet'), withPrefetch);
    expect(cards).toEqual([]);
  });
});
