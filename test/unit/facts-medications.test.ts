// PatientFacts from gathered FHIR resources (src/fhir/facts.ts): newest valid value, UCUM units, patient safety checks
// (fixtures: test/support/patient-facts.ts).
// This file: medications, warfarin administrations and dialysis Procedures.
import type { FhirResource, MedicationRequest, MedicationStatement } from 'fhir/r4';
import { extractFacts } from '../../src/fhir/facts.js';
import { UCUM, RXNORM, PID, NOW, gather, facts } from '../support/patient-facts.js';

describe('medications', () => {
  // Source: FHIR R4 MedicationRequest/MedicationStatement: only status "active" is a current co-medication;
  // medication[x] is a CodeableConcept or a Reference (here to a contained Medication, "#id").
  const mr = (id: string, status: MedicationRequest['status'], extra: Partial<MedicationRequest> = {}, pid = PID): MedicationRequest => ({
    resourceType: 'MedicationRequest',
    id,
    status,
    intent: 'order',
    subject: { reference: `Patient/${pid}` },
    authoredOn: '2026-10-01',
    medicationCodeableConcept: { coding: [{ system: RXNORM, code: '833528', display: 'amiodarone hydrochloride 200 MG Oral Tablet' }], text: 'Amiodarone 200 mg' },
    ...extra,
  });
  const ms = (id: string, status: MedicationStatement['status']): MedicationStatement => ({
    resourceType: 'MedicationStatement',
    id,
    status,
    subject: { reference: `Patient/${PID}` },
    dateAsserted: '2026-09-01',
    medicationCodeableConcept: { coding: [{ system: RXNORM, code: '9384', display: 'rifampin' }] },
  });

  test.each<[string, boolean, FhirResource]>([
    ['active MedicationRequest', true, mr('m1', 'active')],
    ['stopped MedicationRequest', false, mr('m1', 'stopped')],
    ['completed MedicationRequest', false, mr('m1', 'completed')],
    ['draft MedicationRequest', false, mr('m1', 'draft')],
    ['entered-in-error MedicationRequest', false, mr('m1', 'entered-in-error')],
    ['active MedicationRequest of another patient', false, mr('m1', 'active', {}, 'p2')],
    ['active MedicationStatement', true, ms('s1', 'active')],
    ['completed MedicationStatement', false, ms('s1', 'completed')],
    ['intended MedicationStatement', false, ms('s1', 'intended')],
  ])('%s → used: %s', (_n, used, r) => {
    expect(facts([r]).medications.length).toBe(used ? 1 : 0);
  });

  test('RxNorm codes and text are collected with the source', () => {
    const f = facts([
      mr('m1', 'active', {
        medicationCodeableConcept: {
          coding: [
            { system: RXNORM, code: '833528', display: 'amiodarone hydrochloride 200 MG Oral Tablet' },
            { system: RXNORM, code: '703' },
            { system: 'http://hl7.org/fhir/sid/ndc', code: '0000-0000', display: 'NDC product' },
          ],
          text: 'Amiodarone 200 mg',
        },
      }),
    ]);
    expect(f.medications).toHaveLength(1);
    const m = f.medications[0]!;
    expect(m.rxnorm).toEqual(['833528', '703']);
    expect(m.text).toContain('Amiodarone 200 mg');
    expect(m.text).toContain('amiodarone hydrochloride 200 MG Oral Tablet');
    expect(m.source).toEqual({ reference: 'MedicationRequest/m1', date: '2026-10-01', via: 'prefetch' });
  });

  test('contained Medication via medicationReference "#id"', () => {
    const r = mr('m2', 'active', {
      medicationCodeableConcept: undefined,
      medicationReference: { reference: '#med1' },
      contained: [{ resourceType: 'Medication', id: 'med1', code: { coding: [{ system: RXNORM, code: '8183', display: 'phenytoin' }], text: 'Dilantin' } }],
    } as Partial<MedicationRequest>);
    delete r.medicationCodeableConcept;
    const f = facts([r]);
    expect(f.medications).toHaveLength(1);
    expect(f.medications[0]!.rxnorm).toEqual(['8183']);
    expect(f.medications[0]!.text).toContain('Dilantin');
  });

  test('medicationReference with display only keeps the display as text', () => {
    const r = mr('m3', 'active', { medicationReference: { reference: 'Medication/xyz', display: 'Tegretol 200 mg' } });
    delete r.medicationCodeableConcept;
    const f = facts([r]);
    expect(f.medications[0]?.rxnorm).toEqual([]);
    expect(f.medications[0]?.text).toBe('Tegretol 200 mg');
  });

  test('a medication with neither code nor text is not recorded', () => {
    const r = mr('m4', 'active');
    delete r.medicationCodeableConcept;
    r.medicationReference = { reference: 'Medication/xyz' };
    expect(facts([r]).medications).toEqual([]);
  });

  test('the same resource arriving under two keys is counted once', () => {
    const f = extractFacts(gather({ medicationRequests: { resources: [mr('m1', 'active')] }, again: { resources: [mr('m1', 'active')], status: 'query' } }), { patientId: PID, now: NOW });
    expect(f.medications).toHaveLength(1);
  });
});

describe('warfarin administrations (MONITORED_ADMINISTRATIONS)', () => {
  test('the warfarin codes read are the RxNorm ingredient and the products of knowledge/drug-codes.json', async () => {
    const { MONITORED_ADMINISTRATIONS } = await import('../../src/fhir/medications.js');
    const { readFileSync } = await import('node:fs');
    const codes = JSON.parse(readFileSync('knowledge/drug-codes.json', 'utf8')) as { ingredients: { name: string; rxcui: string }[]; products: { rxcui: string; ingredient: string }[] };
    const w = MONITORED_ADMINISTRATIONS.find((m) => m.drug === 'warfarin')!;
    expect([...w.rxnorm].sort()).toEqual(
      [codes.ingredients.find((i) => i.name === 'warfarin')!.rxcui, ...codes.products.filter((p) => p.ingredient === 'warfarin').map((p) => p.rxcui)].sort(),
    );
    expect(w.statuses).toEqual(new Set(['completed']));
  });

  test('a warfarin dose of another patient is ignored with a note', () => {
    const f = extractFacts(
      gather({
        a: {
          resources: [
            {
              resourceType: 'MedicationAdministration',
              id: 'x1',
              status: 'completed',
              medicationCodeableConcept: { coding: [{ system: RXNORM, code: '11289' }] },
              subject: { reference: 'Patient/other' },
              effectiveDateTime: '2026-11-24T08:00:00Z',
              dosage: { dose: { value: 5, system: UCUM, code: 'mg' } },
            },
          ],
        },
      }),
      { patientId: PID, now: NOW },
    );
    expect(f.administrations).toBeUndefined();
    expect(f.notes).toContain('MedicationAdministration/x1 ignored: subject is not the patient in context');
  });
});

describe('dialysis Procedures (DIALYSIS_PROCEDURES, the `dialysis` prefetch key)', () => {
  const SCT = 'http://snomed.info/sct';
  const CPT = 'http://www.ama-assn.org/go/cpt';
  const PCS = 'http://www.cms.gov/Medicare/Coding/ICD10';
  type P = Extract<FhirResource, { resourceType: 'Procedure' }>;
  const proc = (id: string, system: string, code: string, o: { status?: string; at?: string; start?: string; end?: string; subject?: string } = {}): P =>
    ({
      resourceType: 'Procedure',
      id,
      status: o.status ?? 'completed',
      code: { coding: [{ system, code }] },
      subject: { reference: o.subject ?? `Patient/${PID}` },
      ...(o.at ? { performedDateTime: o.at } : {}),
      ...(o.start || o.end ? { performedPeriod: { ...(o.start ? { start: o.start } : {}), ...(o.end ? { end: o.end } : {}) } } : {}),
    }) as P;
  const read = (...resources: FhirResource[]) => extractFacts(gather({ dialysis: { resources } }), { patientId: PID, now: NOW });

  test('the prefetch template in config/services.json queries exactly the codes the reader reads', async () => {
    const { readFileSync } = await import('node:fs');
    const { DIALYSIS_PROCEDURES, dialysisProcedureCodeParam } = await import('../../src/fhir/dialysis.js');
    const tpl = (JSON.parse(readFileSync('config/services.json', 'utf8')) as { prefetch: Record<string, string> }).prefetch['dialysis']!;
    const m = /^Procedure\?patient=\{\{context\.patientId\}\}&code=([^&]+)&_sort=-date&_count=20$/.exec(tpl);
    expect(m).not.toBeNull();
    // percent-encoded tokens, decoded as the FHIR server decodes them
    expect(new Set(m![1]!.split(',').map(decodeURIComponent))).toEqual(new Set(DIALYSIS_PROCEDURES.map((c) => `${c.system}|${c.code}`)));
    expect(m![1]).toBe(dialysisProcedureCodeParam());
    expect(new Set(DIALYSIS_PROCEDURES.map((c) => `${c.system}|${c.code}`)).size).toBe(DIALYSIS_PROCEDURES.length);
  });

  // Sources: SNOMED CT International (procedure concepts), AMA CPT 90935–90947 (dialysis services), CMS ICD-10-PCS
  // 5A1D7/8/9 "Performance of Urinary Filtration" (intermittent <6 h / prolonged intermittent 6–18 h / continuous >18 h).
  test.each<[string, string, string, string | undefined]>([
    ['SNOMED hemodialysis', SCT, '302497006', 'hemodialysis'],
    ['SNOMED intermittent hemodialysis', SCT, '233575001', 'hemodialysis'],
    ['SNOMED peritoneal dialysis', SCT, '71192002', 'peritoneal'],
    ['SNOMED chronic peritoneal dialysis', SCT, '225230008', 'peritoneal'],
    ['SNOMED CAPD', SCT, '238318009', 'peritoneal'],
    ['SNOMED automated peritoneal dialysis', SCT, '428648006', 'peritoneal'],
    ['SNOMED renal dialysis (modality not stated)', SCT, '265764009', 'dialysis'],
    ['SNOMED CRRT', SCT, '714749008', 'crrt'],
    ['CPT 90935 hemodialysis, single evaluation', CPT, '90935', 'hemodialysis'],
    ['CPT 90937 hemodialysis, repeated evaluations', CPT, '90937', 'hemodialysis'],
    ['CPT 90945 dialysis other than hemodialysis (PD or CRRT)', CPT, '90945', 'dialysis'],
    ['CPT 90947 dialysis other than hemodialysis, repeated', CPT, '90947', 'dialysis'],
    ['ICD-10-PCS 5A1D70Z intermittent <6 h/day', PCS, '5A1D70Z', 'hemodialysis'],
    ['ICD-10-PCS 5A1D80Z prolonged intermittent 6–18 h/day', PCS, '5A1D80Z', 'crrt'],
    ['ICD-10-PCS 5A1D90Z continuous >18 h/day', PCS, '5A1D90Z', 'crrt'],
    ['ICD-10-PCS code in lower case', PCS, '5a1d70z', 'hemodialysis'],
    ['a SNOMED code sent with the CPT system → not read', CPT, '302497006', undefined],
    ['appendectomy (SNOMED 80146002) → not dialysis', SCT, '80146002', undefined],
    ['obsolete ICD-10-PCS 5A1D00Z → not read', PCS, '5A1D00Z', undefined],
  ])('%s', (_n, system, code, kind) => {
    const f = read(proc('d1', system, code, { at: '2026-11-23T08:00:00Z' }));
    expect(f.dialysisProcedures?.[0]?.kind).toBe(kind);
    if (kind) expect(f.dialysisProcedures?.[0]?.source).toEqual({ reference: 'Procedure/d1', date: '2026-11-23T08:00:00Z', via: 'prefetch' });
    expect(f.notes).toEqual([]);
  });

  // Source: FHIR R4 EventStatus — "stopped": terminated after the main activity began (the dialysis happened);
  // preparation / not-done / on-hold / entered-in-error / unknown: not (known to be) performed.
  test.each<[string, boolean]>([
    ['completed', true],
    ['in-progress', true],
    ['stopped', true],
    ['preparation', false],
    ['not-done', false],
    ['on-hold', false],
    ['entered-in-error', false],
    ['unknown', false],
  ])('status %s → read: %s', (status, used) => {
    const f = read(proc('s1', SCT, '302497006', { status, at: '2026-11-23T08:00:00Z' }));
    expect(f.dialysisProcedures?.length ?? 0).toBe(used ? 1 : 0);
    expect(f.notes).toEqual(used ? [] : [`Procedure/s1 (dialysis procedure) ignored: status ${status}`]);
  });

  test.each<[string, Parameters<typeof proc>[3], { date?: string; ongoing?: boolean; note?: string }]>([
    ['performedDateTime', { at: '2026-11-20' }, { date: '2026-11-20', ongoing: false }],
    ['performedPeriod: dated by its end', { start: '2026-11-20T08:00:00Z', end: '2026-11-20T12:00:00Z' }, { date: '2026-11-20T12:00:00Z', ongoing: false }],
    ['performedPeriod start only (completed)', { start: '2026-11-20T08:00:00Z' }, { date: '2026-11-20T08:00:00Z', ongoing: false }],
    ['in progress: ongoing, shown with its start', { status: 'in-progress', start: '2026-11-01T08:00:00Z' }, { date: '2026-11-01T08:00:00Z', ongoing: true }],
    ['in progress without a date: ongoing', { status: 'in-progress' }, { ongoing: true }],
    ['completed without a date → ignored', {}, { note: 'Procedure/t1 (dialysis procedure) ignored: no performed date' }],
    ['unparseable date → ignored', { at: 'last week' }, { note: 'Procedure/t1 (dialysis procedure) ignored: no performed date' }],
    ['dated tomorrow + 1 h (beyond the 24 h clock tolerance) → ignored', { at: '2026-11-26T13:00:00Z' }, { note: 'Procedure/t1 (dialysis procedure) ignored: dated in the future' }],
    ['in progress, started in the future → ignored', { status: 'in-progress', start: '2026-12-10' }, { note: 'Procedure/t1 (dialysis procedure) ignored: dated in the future' }],
    ['completed, ends in the future → ignored', { start: '2026-11-20', end: '2027-01-01' }, { note: 'Procedure/t1 (dialysis procedure) ignored: dated in the future' }],
    ['a few hours ahead (clock difference) → kept', { at: '2026-11-25T20:00:00Z' }, { date: '2026-11-25T20:00:00Z', ongoing: false }],
  ])('%s', (_n, o, expected) => {
    const f = read(proc('t1', SCT, '302497006', o));
    if (expected.note) {
      expect(f.dialysisProcedures).toBeUndefined();
      expect(f.notes).toEqual([expected.note]);
    } else {
      expect(f.notes).toEqual([]);
      expect(f.dialysisProcedures?.[0]?.ongoing).toBe(expected.ongoing);
      expect(f.dialysisProcedures?.[0]?.date).toBe(expected.date);
    }
  });

  test('another patient’s procedure is ignored with a PHI-free note; an absolute subject URL on the call’s FHIR server is this patient', () => {
    const resources = [proc('o1', SCT, '302497006', { at: '2026-11-24', subject: 'Patient/other' }), proc('o2', SCT, '302497006', { at: '2026-11-24', subject: `https://ehr.example/fhir/Patient/${PID}` })];
    const f = extractFacts(gather({ dialysis: { resources } }), { patientId: PID, now: NOW, fhirServer: 'https://ehr.example/fhir' });
    expect(f.dialysisProcedures?.map((p) => p.source.reference)).toEqual(['Procedure/o2']);
    expect(f.notes).toEqual(['Procedure/o1 ignored: subject is not the patient in context']);
  });

  test('newest first, a procedure in progress before every dated one; arrived by query is marked so', () => {
    const f = extractFacts(
      gather({
        dialysis: {
          status: 'query',
          resources: [
            proc('a', SCT, '302497006', { at: '2026-10-01' }),
            proc('b', SCT, '714749008', { status: 'in-progress', start: '2026-09-01' }),
            proc('c', CPT, '90935', { at: '2026-11-24' }),
          ],
        },
      }),
      { patientId: PID, now: NOW },
    );
    expect(f.dialysisProcedures?.map((p) => [p.source.reference, p.kind, p.source.via])).toEqual([
      ['Procedure/b', 'crrt', 'query'],
      ['Procedure/c', 'hemodialysis', 'query'],
      ['Procedure/a', 'hemodialysis', 'query'],
    ]);
  });
});
