// Service catalogue, discovery document and prefetch template rendering (src/cds/services.ts).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { findEmptyValues, SUPPORTED_HOOKS } from '../../src/cds/protocol.js';
import { discoveryDocument, loadServiceCatalog, renderPrefetchTemplate } from '../../src/cds/services.js';

describe('renderPrefetchTemplate', () => {
  // Source: CDS Hooks 2.0.1 "Prefetch tokens": {{context.<field>}} for first-level primitive context fields and
  // {{userPractitionerId}}, {{userPractitionerRoleId}}, {{userPatientId}}, {{userRelatedPersonId}} derived from
  // context.userId ("Practitioner/123" etc.). Values are placed into a URL, so they are URL-encoded.
  const ctx = { patientId: '1288992', userId: 'Practitioner/abc', encounterId: '89284', selections: ['MedicationRequest/1'], draftOrders: { resourceType: 'Bundle' } };
  test.each<[string, string, Record<string, unknown>, string | undefined]>([
    ['read by patientId', 'Patient/{{context.patientId}}', ctx, 'Patient/1288992'],
    ['search by patientId', 'Observation?patient={{context.patientId}}&code=http://loinc.org|29463-7', ctx, 'Observation?patient=1288992&code=http://loinc.org|29463-7'],
    ['whitespace inside the braces', 'Patient/{{ context.patientId }}', ctx, 'Patient/1288992'],
    ['two tokens', 'Encounter?patient={{context.patientId}}&_id={{context.encounterId}}', ctx, 'Encounter?patient=1288992&_id=89284'],
    ['id with a space is encoded', 'Patient/{{context.patientId}}', { patientId: 'a b' }, 'Patient/a%20b'],
    ['id with "/", "&" and "#" is encoded', 'Observation?patient={{context.patientId}}', { patientId: 'x/y&z#1' }, 'Observation?patient=x%2Fy%26z%231'],
    ['numeric context value', 'Patient/{{context.patientId}}', { patientId: 42 }, 'Patient/42'],
    ['{{userPractitionerId}} from Practitioner/abc', 'Practitioner/{{userPractitionerId}}', ctx, 'Practitioner/abc'],
    ['{{userPractitionerId}} when userId is a PractitionerRole → undefined', 'Practitioner/{{userPractitionerId}}', { ...ctx, userId: 'PractitionerRole/r1' }, undefined],
    ['{{userPractitionerRoleId}} from PractitionerRole/r1', 'PractitionerRole/{{userPractitionerRoleId}}', { ...ctx, userId: 'PractitionerRole/r1' }, 'PractitionerRole/r1'],
    ['{{userPatientId}} from Patient/p9', 'Patient/{{userPatientId}}', { ...ctx, userId: 'Patient/p9' }, 'Patient/p9'],
    ['{{userRelatedPersonId}} from RelatedPerson/rp', 'RelatedPerson/{{userRelatedPersonId}}', { ...ctx, userId: 'RelatedPerson/rp' }, 'RelatedPerson/rp'],
    ['{{userPractitionerId}} without userId → undefined', 'Practitioner/{{userPractitionerId}}', { patientId: '1' }, undefined],
    ['absent context field → undefined', 'Encounter/{{context.encounterId}}', { patientId: '1' }, undefined],
    ['non-primitive context field (array) → undefined', 'X?ids={{context.selections}}', ctx, undefined],
    ['non-primitive context field (object) → undefined', 'X?b={{context.draftOrders}}', ctx, undefined],
    ['unknown token → undefined', 'Patient/{{patientId}}', ctx, undefined],
    ['null context value → undefined', 'Patient/{{context.patientId}}', { patientId: null }, undefined],
    ['one resolvable and one unresolvable → undefined', 'Encounter?patient={{context.patientId}}&_id={{context.encounterId}}', { patientId: '1' }, undefined],
    ['no tokens → unchanged', 'Metadata', {}, 'Metadata'],
  ])('%s', (_n, tpl, c, expected) => {
    expect(renderPrefetchTemplate(tpl, c)).toBe(expected);
  });
});

describe('service catalogue (config/services.json)', () => {
  // Source: CDS Hooks 2.0.1 "Discovery": each service has hook, id, description (REQUIRED), title (RECOMMENDED),
  // prefetch (OPTIONAL); JSON rule: no null, "", [] or {} values.
  const catalog = loadServiceCatalog();
  const doc = discoveryDocument(catalog);

  test('the catalogue loads with one service per supported hook', () => {
    expect(catalog.services.map((s) => s.hook).sort()).toEqual([...SUPPORTED_HOOKS].sort());
    expect(new Set(catalog.services.map((s) => s.id)).size).toBe(catalog.services.length);
    expect([...catalog.byId.keys()].sort()).toEqual(catalog.services.map((s) => s.id).sort());
  });

  test('the discovery document has no empty values', () => {
    expect(findEmptyValues(doc)).toEqual([]);
  });

  test('every service in the discovery document has hook, id, title, description, prefetch', () => {
    for (const s of doc.services) {
      expect(typeof s.hook).toBe('string');
      expect(s.id).toMatch(/^[A-Za-z0-9][A-Za-z0-9_-]*$/);
      expect(s.title?.length).toBeGreaterThan(0);
      expect(s.description.length).toBeGreaterThan(0);
      expect(Object.keys(s.prefetch ?? {}).length).toBeGreaterThan(0);
    }
  });

  test('the discovery document survives a JSON round-trip unchanged (no undefined, functions or Maps)', () => {
    expect(JSON.parse(JSON.stringify(doc))).toEqual(doc);
    expect(Object.keys(doc)).toEqual(['services']);
  });

  test('required keys have templates', () => {
    for (const r of catalog.required) expect(catalog.prefetch[r]).toBeDefined();
  });

  // Source: CDS Hooks 2.0.1 "Prefetch template": keep to reads and type searches with token equality, date
  // comparisons, _count and _sort (reference/cds-hooks-2.0.md).
  test.each(Object.entries(loadServiceCatalog().prefetch))('template %s renders for a typical context and stays in the recommended subset', (_key, tpl) => {
    const q = renderPrefetchTemplate(tpl, { patientId: 'pat 1', userId: 'Practitioner/u1' });
    expect(q).toBeDefined();
    expect(q).not.toMatch(/\{\{|\}\}/);
    expect(q).toContain('pat%201');
    const m = /^([A-Z][A-Za-z]+)(?:\/([^?]+)|\?(.*))$/.exec(q!);
    expect(m).not.toBeNull();
    if (m![3] !== undefined) {
      for (const pair of m![3].split('&')) {
        const [name] = pair.split('=');
        expect(['patient', 'subject', 'code', 'status', 'clinical-status', 'category', 'date', '_count', '_sort']).toContain(name);
      }
    }
  });
});

describe('loadServiceCatalog rejects a broken file', () => {
  // Source: CDS Hooks 2.0.1 "Discovery" REQUIRED fields; the service must fail at start, not at the first call.
  const dir = mkdtempSync(path.join(tmpdir(), 'services-test-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const good = {
    prefetch: { patient: 'Patient/{{context.patientId}}' },
    required: ['patient'],
    services: [{ hook: 'order-select', id: 'svc', title: 'T', description: 'D' }],
  };
  test.each<[string, unknown]>([
    ['required key without template', { ...good, required: ['weight'] }],
    ['unsupported hook', { ...good, services: [{ ...good.services[0], hook: 'encounter-start' }] }],
    ['empty description', { ...good, services: [{ ...good.services[0], description: '' }] }],
    ['no services', { ...good, services: [] }],
    ['unknown field on a service', { ...good, services: [{ ...good.services[0], extra: 1 }] }],
    ['empty template', { ...good, prefetch: { patient: '' } }],
  ])('%s → throws', (name, content) => {
    const f = path.join(dir, `${name.replace(/\W+/g, '-')}.json`);
    writeFileSync(f, JSON.stringify(content));
    expect(() => loadServiceCatalog(f)).toThrow();
  });

  test('the minimal good file loads', () => {
    const f = path.join(dir, 'good.json');
    writeFileSync(f, JSON.stringify(good));
    expect(loadServiceCatalog(f).byId.get('svc')?.prefetch).toEqual(good.prefetch);
  });
});

describe('prefetch keys declared by the evaluators that need them', () => {
  // Source: docs/architecture.md — a key an evaluator declares is read or queried only when one of its drugs is in scope.
  test.each<[string, string[], boolean]>([
    ['vancomycinLevels', ['vancomycin'], true],
    ['vancomycinLevels', ['warfarin'], false],
    ['medicationAdministrations', ['warfarin'], true],
    ['medicationAdministrations', ['vancomycin'], true],
    ['medicationAdministrations', ['clopidogrel', 'gabapentin'], false],
    ['dialysis', ['gabapentin'], true],
    ['dialysis', ['warfarin'], false],
    ['patient', ['amoxicillin'], true],
    ['genomics', ['warfarin'], true],
    ['genomics', ['gabapentin'], false],
    ['renal', ['warfarin'], false],
    ['renal', ['vancomycin'], true],
    ['weight', ['clopidogrel'], false],
    ['weight', ['clopidogrel', 'gabapentin'], true],
    ['inr', ['warfarin'], true],
    ['inr', ['codeine'], false],
    ['conditions', ['vancomycin'], true],
  ])('%s for %p → %s', async (key, ingredients, used) => {
    const { defaultRegistry } = await import('../../src/dosing/registry.js');
    expect(defaultRegistry().usesPrefetchKey(key, new Set(ingredients))).toBe(used);
  });
  test('every key an evaluator declares has a template in config/services.json', async () => {
    const { defaultRegistry } = await import('../../src/dosing/registry.js');
    const declared = defaultRegistry().declaredPrefetchKeys().sort();
    expect(declared).toEqual(['devices', 'dialysis', 'genomics', 'genomicsCategory', 'glucose', 'height', 'inr', 'medicationAdministrations', 'renal', 'vancomycinLevels', 'weight']);
    const catalog = loadServiceCatalog();
    for (const k of declared) expect([k, typeof catalog.prefetch[k]]).toEqual([k, 'string']);
  });
});
