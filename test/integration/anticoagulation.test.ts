// Warfarin and the DOACs for every patient, end to end (issue 16 scopes 3–5): heart valves refuse a DOAC before any
// renal band, mitral stenosis keeps AF from being "nonvalvular", the warfarin card states the target INR its dose
// assumes and the CPIC 2017 branch that applied. Real service and FHIR server, with and without prefetch.
import type { Condition, FhirResource } from 'fhir/r4';
import { checkCdsResponse } from '../../src/cds/protocol.js';
import { draftOrder, ORAL, orderSelectCall } from '../fixtures/orders.js';
import { draftWarfarin, patient, pharmvarGenotype, prefetchFrom, textGenotype, vital } from '../fixtures/synthetic-patients.js';
import { useFhirAndService } from '../support/service.js';
import { visibleText } from '../support/markdown.js';

const TOKEN = 'ehr-access-token-anticoag';
const now = new Date();
const daysAgo = (d: number) => new Date(now.getTime() - d * 86400000).toISOString().slice(0, 10);
const bornYearsAgo = (years: number) => `${now.getUTCFullYear() - years}-01-01`;
const condition = (id: string, p: string, text: string, coding?: { system: string; code: string; display: string }): Condition => ({
  resourceType: 'Condition',
  id,
  clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
  code: { ...(coding ? { coding: [coding] } : {}), text },
  subject: { reference: `Patient/${p}` },
  recordedDate: daysAgo(200),
});
const AF = { system: 'http://snomed.info/sct', code: '49436004', display: 'Atrial fibrillation' };
const BLACK = { code: '2054-5', display: 'Black or African American' };

/**
 * - av-dabi: man, 80 y, 60 kg, creatinine 2.0 (CrCl 25: the 75 mg band), AF and a mechanical mitral valve
 * - av-apix: woman, 70 y, 70 kg, creatinine 0.9, AF and rheumatic mitral stenosis (ICD-10-CM I05.0)
 * - av-warf: woman, 60 y, 165 cm, 70 kg, mechanical mitral valve, CYP2C9 *1/*1, VKORC1 A/G
 * - af-warf: man, 55 y, 180 cm, 90 kg, Black or African American, CYP2C9 *1/*1, VKORC1 A/G (no *5/*6/*8/*11 tested)
 */
function resources(): FhirResource[] {
  const cr = (id: string, p: string, v: number) => vital(id, p, '2160-0', 'Creatinine [Mass/volume] in Serum or Plasma', v, 'mg/dL', 'mg/dL', daysAgo(2));
  const wt = (id: string, p: string, kg: number) => vital(id, p, '29463-7', 'Body weight', kg, 'kg', 'kg', daysAgo(2));
  const ht = (id: string, p: string, cm: number) => vital(id, p, '8302-2', 'Body height', cm, 'cm', 'cm', daysAgo(2));
  return [
    patient('av-dabi', bornYearsAgo(80), 'male'), wt('av-dabi-wt', 'av-dabi', 60), cr('av-dabi-cr', 'av-dabi', 2.0),
    condition('av-dabi-af', 'av-dabi', 'Atrial fibrillation', AF), condition('av-dabi-mv', 'av-dabi', 'Mechanical mitral valve replacement (St. Jude)'),
    patient('av-apix', bornYearsAgo(70), 'female'), wt('av-apix-wt', 'av-apix', 70), cr('av-apix-cr', 'av-apix', 0.9),
    condition('av-apix-af', 'av-apix', 'Atrial fibrillation', AF), condition('av-apix-ms', 'av-apix', 'Rheumatic mitral stenosis', { system: 'http://hl7.org/fhir/sid/icd-10-cm', code: 'I05.0', display: 'Rheumatic mitral stenosis' }),
    patient('av-warf', bornYearsAgo(60), 'female'), wt('av-warf-wt', 'av-warf', 70), ht('av-warf-ht', 'av-warf', 165),
    condition('av-warf-mv', 'av-warf', 'Mechanical mitral valve prosthesis'),
    pharmvarGenotype('av-warf-2c9', 'av-warf', 'HGNC:2623', 'CYP2C9', '*1/*1', daysAgo(300)),
    patient('af-warf', bornYearsAgo(55), 'male', BLACK), wt('af-warf-wt', 'af-warf', 90), ht('af-warf-ht', 'af-warf', 180),
    pharmvarGenotype('af-warf-2c9', 'af-warf', 'HGNC:2623', 'CYP2C9', '*1/*1', daysAgo(300)),
    textGenotype('af-warf-vk', 'af-warf', 'HGNC:12858', 'VKORC1', 'rs9923231 C/T', daysAgo(300)),
  ];
}
const env = useFhirAndService(TOKEN, resources);

async function call(patientId: string, d: ReturnType<typeof draftWarfarin>, withPrefetch: boolean) {
  const r = await env.svc.hook('dosing-order-select', orderSelectCall(env.fhir.url, TOKEN, patientId, d, withPrefetch ? { prefetch: prefetchFrom(resources(), patientId) } : {}));
  expect(r.status).toBe(200);
  expect(checkCdsResponse(r.json)).toEqual([]);
  return r.json.cards as any[];
}

describe.each([true, false])('anticoagulants and the chart (prefetch: %s)', (withPrefetch) => {
  test('dabigatran with AF and a mechanical mitral valve: critical, contraindicated, no renal dose band, remove the draft', async () => {
    const d = draftOrder(`dabi-${withPrefetch}`, 'av-dabi', { rxcui: '1037045', text: 'dabigatran etexilate 150 MG Oral Capsule' }, { mg: 150, timing: { frequency: 2, period: 1, periodUnit: 'd' }, route: ORAL });
    const cards = await call('av-dabi', d, withPrefetch);
    expect(cards).toHaveLength(1);
    const c = cards[0];
    expect(c.indicator).toBe('critical');
    expect(c.summary).toBe('Dabigatran: contraindicated with a mechanical heart valve (label)');
    expect(c.source.topic.code).toBe('anticoagulant-valve');
    expect(c.detail).toContain('Condition/av-dabi-mv');
    expect(c.detail).not.toMatch(/75 mg|nonvalvular atrial fibrillation — label|CrCl 25/);
    expect(c.suggestions[0]).toMatchObject({ isRecommended: true, actions: [{ type: 'delete', resourceId: `MedicationRequest/dabi-${withPrefetch}` }] });
  });

  test('apixaban with AF and rheumatic mitral stenosis: warning, the nonvalvular AF band is not applied', async () => {
    const d = draftOrder(`apix-${withPrefetch}`, 'av-apix', { rxcui: '1364445', text: 'apixaban 5 MG Oral Tablet' }, { mg: 5, timing: { frequency: 2, period: 1, periodUnit: 'd' }, route: ORAL });
    const c = (await call('av-apix', d, withPrefetch))[0];
    expect(c.indicator).toBe('warning');
    expect(c.summary).toBe('Apixaban: mitral stenosis on file — the nonvalvular AF dose bands do not apply');
    expect(c.suggestions).toBeUndefined();
  });

  test('warfarin with a mechanical mitral valve: the card states target INR 2.5–3.5 and that the equations assume 2–3', async () => {
    const c = (await call('av-warf', draftWarfarin(`w-${withPrefetch}`, 'av-warf', 10), withPrefetch))[0];
    expect(c.detail).toContain('**Target INR assumed: 2.5–3.5** (a mechanical mitral valve: Condition/av-warf-mv;');
    expect(c.detail).toContain('The dosing equations were derived mostly in patients with a 2–3 target.');
    // VKORC1 is not on file: CPIC's "dose clinically" branch, named on the card
    expect(visibleText(c.detail)).toMatch(/CPIC 2017 warfarin flowchart \(Figure 2, adults\): VKORC1 and CYP2C9 \*2\/\*3 genotypes not both available: dose clinically/);
  });

  test('warfarin, African ancestry, CYP2C9 *1/*1 without *5/*6/*8/*11 testing: dosed clinically, as CPIC 2017 says', async () => {
    const c = (await call('af-warf', draftWarfarin(`af-${withPrefetch}`, 'af-warf', 10), withPrefetch))[0];
    expect(visibleText(c.detail)).toMatch(/African ancestry and CYP2C9 \*5, \*6, \*8, \*11 not known to be tested: dose clinically/);
    expect(c.detail).toMatch(/on file, not used: CPIC 2017 doses clinically/);
    expect(c.detail).toContain('**Target INR assumed: 2–3** (no indication on file;');
  });
});
