// CDS Hooks 2.0 wire validation (src/cds/protocol.ts): hook requests, feedback, and the response checklist.
import { randomUUID } from 'node:crypto';
import { checkCdsResponse, findEmptyValues, parseFeedback, parseHookRequest, RequestValidationError, type Card } from '../../src/cds/protocol.js';

/**
 * An order-select call modelled on the example in HL7/cds-hooks-library order-select.md (v1.0.1) and the service
 * call example of the CDS Hooks 2.0.1 specification, plus unknown fields and `extension` objects (reserved: must be
 * accepted and ignored).
 */
function specOrderSelect(): Record<string, unknown> {
  return {
    hookInstance: 'd1577c69-dfbe-44ad-ba6d-3e05e953b2ea',
    fhirServer: 'https://fhir.example.org/r4',
    hook: 'order-select',
    fhirAuthorization: {
      access_token: 'some-opaque-fhir-access-token',
      token_type: 'Bearer',
      expires_in: 300,
      scope: 'user/Patient.read user/Observation.read user/MedicationRequest.read',
      subject: 'cds-service4',
      patient: '1288992',
    },
    context: {
      userId: 'PractitionerRole/A2340113',
      patientId: '1288992',
      encounterId: '89284',
      selections: ['NutritionOrder/pureeddiet-simple', 'MedicationRequest/smart-MedicationRequest-104'],
      draftOrders: {
        resourceType: 'Bundle',
        entry: [
          {
            resource: {
              resourceType: 'NutritionOrder',
              id: 'pureeddiet-simple',
              status: 'draft',
              intent: 'order',
              patient: { reference: 'Patient/1288992' },
              dateTime: '2026-11-25',
              oralDiet: { type: [{ coding: [{ code: '226211001', system: 'http://snomed.info/sct', display: 'Pureed diet' }] }] },
            },
          },
          {
            resource: {
              resourceType: 'MedicationRequest',
              id: 'smart-MedicationRequest-104',
              status: 'draft',
              intent: 'order',
              medicationCodeableConcept: {
                coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '855332', display: 'warfarin sodium 5 MG Oral Tablet' }],
                text: 'Warfarin 5 mg tablet',
              },
              subject: { reference: 'Patient/1288992' },
              dosageInstruction: [
                {
                  text: '5 mg once daily',
                  timing: { repeat: { frequency: 1, period: 1, periodUnit: 'd' } },
                  doseAndRate: [{ doseQuantity: { value: 5, unit: 'mg', system: 'http://unitsofmeasure.org', code: 'mg' } }],
                },
              ],
            },
          },
        ],
      },
      extension: { 'com.example.ehr.session': { tab: 'orders' } },
      unknownContextField: 42,
    },
    prefetch: {
      patient: { resourceType: 'Patient', id: '1288992', gender: 'male', birthDate: '1960-05-01' },
      weight: null,
    },
    extension: { 'com.example.ehr.build': '2026.11', nested: { a: [1, 2] } },
    someFutureTopLevelField: { x: true },
  };
}

const parseOk = (body: unknown, hook: 'order-select' | 'order-sign' | 'medication-prescribe' = 'order-select') => parseHookRequest(body, hook);
const issuesOf = (fn: () => unknown): string[] => {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(RequestValidationError);
    return (e as RequestValidationError).issues;
  }
  throw new Error('expected a RequestValidationError');
};

describe('parseHookRequest accepts the specification example shapes', () => {
  // Source: CDS Hooks 2.0.1 "HTTP Request" + cds-hooks-library order-select/order-sign/medication-prescribe
  // examples; `extension` is reserved everywhere and unknown extensions are ignored (reference/cds-hooks-2.0.md).
  test('order-select with unknown fields and extension objects', () => {
    const r = parseOk(specOrderSelect());
    expect(r.hook).toBe('order-select');
    expect(r.hookInstance).toBe('d1577c69-dfbe-44ad-ba6d-3e05e953b2ea');
    expect(r.fhirServer).toBe('https://fhir.example.org/r4');
    expect(r.fhirAuthorization?.access_token).toBe('some-opaque-fhir-access-token');
    expect(r.context.patientId).toBe('1288992');
    expect(r.context.selections).toEqual(['NutritionOrder/pureeddiet-simple', 'MedicationRequest/smart-MedicationRequest-104']);
    expect(r.context.draftOrders?.entry).toHaveLength(2);
    expect(r.prefetch?.['weight']).toBeNull();
    expect(Object.keys(r)).not.toContain('extension');
    expect(Object.keys(r)).not.toContain('someFutureTopLevelField');
  });

  test.each<[string, (b: Record<string, unknown>) => void, 'order-select' | 'order-sign' | 'medication-prescribe']>([
    ['draftOrders Bundle without `type` (real clients omit it)', () => undefined, 'order-select'],
    ['draftOrders Bundle with type collection', (b) => ((b['context'] as { draftOrders: Record<string, unknown> }).draftOrders['type'] = 'collection'), 'order-select'],
    ['no fhirServer, no fhirAuthorization, no prefetch', (b) => { delete b['fhirServer']; delete b['fhirAuthorization']; delete b['prefetch']; }, 'order-select'],
    ['fhirServer without fhirAuthorization (open server)', (b) => delete b['fhirAuthorization'], 'order-select'],
    ['token_type lower-case "bearer"', (b) => ((b['fhirAuthorization'] as Record<string, unknown>)['token_type'] = 'bearer'), 'order-select'],
    ['fhirAuthorization without patient', (b) => delete (b['fhirAuthorization'] as Record<string, unknown>)['patient'], 'order-select'],
    ['no userId / encounterId', (b) => { const c = b['context'] as Record<string, unknown>; delete c['userId']; delete c['encounterId']; }, 'order-select'],
    ['draftOrders with no entries (first selection, nothing drafted yet)', (b) => ((b['context'] as Record<string, unknown>)['draftOrders'] = { resourceType: 'Bundle' }), 'order-select'],
    ['order-sign without selections', (b) => { b['hook'] = 'order-sign'; delete (b['context'] as Record<string, unknown>)['selections']; }, 'order-sign'],
    [
      'medication-prescribe with context.medications',
      (b) => {
        b['hook'] = 'medication-prescribe';
        const c = b['context'] as Record<string, unknown>;
        c['medications'] = c['draftOrders'];
        delete c['draftOrders'];
        delete c['selections'];
      },
      'medication-prescribe',
    ],
  ])('%s → accepted', (_n, mutate, hook) => {
    const b = specOrderSelect();
    mutate(b);
    expect(() => parseOk(b, hook)).not.toThrow();
  });
});

describe('parseHookRequest rejects malformed calls', () => {
  // Source: CDS Hooks 2.0.1 request fields: hook, hookInstance, context REQUIRED; fhirServer REQUIRED when
  // fhirAuthorization is present; token_type is "Bearer"; hook contexts per cds-hooks-library (patientId REQUIRED,
  // order-select selections is an array; draftOrders/medications are Bundles).
  test.each<[string, (b: Record<string, unknown>) => void, RegExp]>([
    ['wrong hook for the service', (b) => (b['hook'] = 'patient-view'), /^hook/],
    ['order-sign body sent to the order-select service', (b) => (b['hook'] = 'order-sign'), /^hook/],
    ['missing hook', (b) => delete b['hook'], /^hook/],
    ['missing hookInstance', (b) => delete b['hookInstance'], /^hookInstance/],
    ['hookInstance not a UUID', (b) => (b['hookInstance'] = 'not-a-uuid'), /^hookInstance: must be a UUID/],
    ['hookInstance 4 KB of text', (b) => (b['hookInstance'] = 'x'.repeat(4096)), /^hookInstance: must be a UUID/],
    ['hookInstance a UUID with text around it', (b) => (b['hookInstance'] = ' d1577c69-dfbe-44ad-ba6d-3e05e953b2ea\n'), /^hookInstance: must be a UUID/],
    ['missing context', (b) => delete b['context'], /^context/],
    ['context is an array', (b) => (b['context'] = []), /^context/],
    ['missing context.patientId', (b) => delete (b['context'] as Record<string, unknown>)['patientId'], /^context\.patientId/],
    ['empty context.patientId', (b) => ((b['context'] as Record<string, unknown>)['patientId'] = ''), /^context\.patientId/],
    ['numeric context.patientId', (b) => ((b['context'] as Record<string, unknown>)['patientId'] = 1288992), /^context\.patientId/],
    // FHIR R4 id pattern: the patient id is written into FHIR queries and references (issue 21)
    ['context.patientId with a query injection', (b) => ((b['context'] as Record<string, unknown>)['patientId'] = '1288992&_count=1000'), /^context\.patientId: must be a FHIR id/],
    ['context.patientId with a path', (b) => ((b['context'] as Record<string, unknown>)['patientId'] = '../Practitioner/1'), /^context\.patientId: must be a FHIR id/],
    ['context.patientId of 65 characters', (b) => ((b['context'] as Record<string, unknown>)['patientId'] = 'a'.repeat(65)), /^context\.patientId: must be a FHIR id/],
    ['selections not an array', (b) => ((b['context'] as Record<string, unknown>)['selections'] = 'MedicationRequest/1'), /^context\.selections/],
    ['selections missing on order-select', (b) => delete (b['context'] as Record<string, unknown>)['selections'], /^context\.selections/],
    ['draftOrders missing on order-select', (b) => delete (b['context'] as Record<string, unknown>)['draftOrders'], /^context\.draftOrders/],
    ['draftOrders is not a Bundle', (b) => ((b['context'] as Record<string, unknown>)['draftOrders'] = { resourceType: 'MedicationRequest' }), /^context\.draftOrders/],
    ['fhirAuthorization without fhirServer', (b) => delete b['fhirServer'], /^fhirServer/],
    ['token_type not Bearer', (b) => ((b['fhirAuthorization'] as Record<string, unknown>)['token_type'] = 'MAC'), /^fhirAuthorization\.token_type/],
    ['fhirAuthorization without access_token', (b) => delete (b['fhirAuthorization'] as Record<string, unknown>)['access_token'], /^fhirAuthorization\.access_token/],
    ['fhirAuthorization without subject', (b) => delete (b['fhirAuthorization'] as Record<string, unknown>)['subject'], /^fhirAuthorization\.subject/],
    ['fhirServer is not a URL', (b) => (b['fhirServer'] = 'not a url'), /^fhirServer/],
    ['prefetch is an array', (b) => (b['prefetch'] = [1]), /^prefetch/],
  ])('%s', (_n, mutate, issueRe) => {
    const b = specOrderSelect();
    mutate(b);
    const issues = issuesOf(() => parseOk(b));
    expect(issues.some((i) => issueRe.test(i))).toBe(true);
  });

  test.each([null, 'string', 42, [], undefined])('body %p → rejected', (body) => {
    expect(() => parseOk(body)).toThrow(RequestValidationError);
  });

  test('medication-prescribe without medications → rejected', () => {
    const b = specOrderSelect();
    b['hook'] = 'medication-prescribe';
    expect(issuesOf(() => parseOk(b, 'medication-prescribe')).some((i) => i.startsWith('context.medications'))).toBe(true);
  });

  test('error issues never echo the access token', () => {
    const b = specOrderSelect();
    (b['fhirAuthorization'] as Record<string, unknown>)['token_type'] = 'MAC';
    expect(issuesOf(() => parseOk(b)).join('\n')).not.toContain('some-opaque-fhir-access-token');
  });
});

describe('parseFeedback', () => {
  // Source: CDS Hooks 2.0.1 "Feedback": card, outcome (accepted | overridden), acceptedSuggestions REQUIRED when
  // accepted, overrideReason { reason: Coding, userComment } optional, outcomeTimestamp (ISO 8601 / RFC 3339 UTC).
  // Real clients: overrideReason.reason may lack `display` (reference/cds-hooks-2.0.md).
  const item = (extra: Record<string, unknown> = {}) => ({ card: randomUUID(), outcome: 'overridden', outcomeTimestamp: '2026-11-25T10:00:00Z', ...extra });
  test.each<[string, unknown, boolean]>([
    ['accepted with acceptedSuggestions', { feedback: [item({ outcome: 'accepted', acceptedSuggestions: [{ id: randomUUID() }] })] }, true],
    ['overridden without reason', { feedback: [item()] }, true],
    ['overridden with reason and userComment', { feedback: [item({ overrideReason: { reason: { system: 'urn:x', code: 'clinical-judgement', display: 'Clinical judgement' }, userComment: 'stable on 4 mg' } })] }, true],
    ['overrideReason.reason without display', { feedback: [item({ overrideReason: { reason: { system: 'urn:x', code: 'clinical-judgement' } } })] }, true],
    ['timestamp with offset and fraction', { feedback: [item({ outcomeTimestamp: '2026-11-25T10:00:00.123+01:00' })] }, true],
    ['several cards in one call, with extensions', { feedback: [item(), item({ extension: { a: 1 } })], extension: { b: 2 } }, true],
    ['accepted without acceptedSuggestions', { feedback: [item({ outcome: 'accepted' })] }, false],
    ['accepted with empty acceptedSuggestions', { feedback: [item({ outcome: 'accepted', acceptedSuggestions: [] })] }, false],
    ['acceptedSuggestions item without id', { feedback: [item({ outcome: 'accepted', acceptedSuggestions: [{}] })] }, false],
    ['bad timestamp', { feedback: [item({ outcomeTimestamp: 'yesterday at noon' })] }, false],
    ['missing timestamp', { feedback: [{ card: randomUUID(), outcome: 'overridden' }] }, false],
    ['unknown outcome', { feedback: [item({ outcome: 'ignored' })] }, false],
    ['missing card', { feedback: [{ outcome: 'overridden', outcomeTimestamp: '2026-11-25T10:00:00Z' }] }, false],
    ['empty feedback array', { feedback: [] }, false],
    ['no feedback key', {}, false],
    ['feedback not an array', { feedback: item() }, false],
  ])('%s → accepted: %s', (_n, body, ok) => {
    if (ok) expect(parseFeedback(body).length).toBeGreaterThan(0);
    else expect(() => parseFeedback(body)).toThrow(RequestValidationError);
  });
});

describe('checkCdsResponse', () => {
  // Source: CDS Hooks 2.0.1 "CDS Service Response" / Card / Suggestion / Action attributes and the JSON rule (no
  // null, "", [] or {}), condensed in reference/cds-hooks-2.0.md.
  function validCard(): Card {
    return {
      uuid: randomUUID(),
      summary: 'Warfarin 5 mg daily (35 mg/week) suggested by the IWPC pharmacogenetic equation',
      detail: '**Suggested starting dose**',
      indicator: 'info',
      source: { label: 'Personalized Dosing Service', url: 'https://doi.org/10.1056/NEJMoa0809329', topic: { system: 'urn:x', code: 'warfarin-dose', display: 'Warfarin dose' } },
      suggestions: [
        {
          label: 'Change to warfarin 5 mg once daily',
          uuid: randomUUID(),
          isRecommended: true,
          actions: [{ type: 'update', description: 'Set the dose', resource: { resourceType: 'MedicationRequest', id: '103', status: 'draft', intent: 'order', subject: { reference: 'Patient/1' } } }],
        },
      ],
      selectionBehavior: 'at-most-one',
      overrideReasons: [{ system: 'urn:x', code: 'clinical-judgement', display: 'Clinical judgement' }],
      links: [{ label: 'Explain', url: 'https://app.example.org/launch', type: 'smart', appContext: 'abc' }],
    };
  }
  type Mut = (c: Card & Record<string, unknown>) => void;

  test('a valid card passes', () => {
    expect(checkCdsResponse({ cards: [validCard()] })).toEqual([]);
  });
  test('{"cards": []} is valid', () => {
    expect(checkCdsResponse({ cards: [] })).toEqual([]);
  });
  test('a summary of exactly 139 characters is valid', () => {
    const c = validCard();
    c.summary = 'x'.repeat(139);
    expect(checkCdsResponse({ cards: [c] })).toEqual([]);
  });
  test('a delete action with resourceId is valid', () => {
    const c = validCard();
    c.suggestions![0]!.actions = [{ type: 'delete', description: 'Remove the draft', resourceId: 'MedicationRequest/103' }];
    expect(checkCdsResponse({ cards: [c] })).toEqual([]);
  });
  test.each([null, undefined, 'x', {}, { cards: {} }])('response %p → $.cards missing', (r) => {
    expect(checkCdsResponse(r)).toEqual(['$.cards: missing']);
  });

  test.each<[string, Mut, RegExp]>([
    ['summary of 140 chars', (c) => (c.summary = 'x'.repeat(140)), /\.summary/],
    ['missing summary', (c) => delete (c as Partial<Card>).summary, /\.summary/],
    ['missing indicator', (c) => delete (c as Partial<Card>).indicator, /\.indicator/],
    ['bad indicator "hard-stop"', (c) => (c.indicator = 'hard-stop' as Card['indicator']), /\.indicator/],
    ['missing source', (c) => delete (c as Partial<Card>).source, /source\.label/],
    ['source without label', (c) => (c.source = { url: 'https://x.org' } as Card['source']), /source\.label/],
    ['card without uuid', (c) => delete c.uuid, /cards\[0\]\.uuid/],
    ['card uuid not a UUID', (c) => (c.uuid = 'card-1'), /cards\[0\]\.uuid/],
    ['suggestion without uuid', (c) => delete c.suggestions![0]!.uuid, /suggestions\[0\]\.uuid/],
    ['suggestion without label', (c) => (c.suggestions![0]!.label = undefined as unknown as string), /suggestions\[0\]\.label/],
    ['suggestion uuid equal to the card uuid', (c) => (c.suggestions![0]!.uuid = c.uuid!), /uuid: duplicate/],
    ['suggestions without selectionBehavior', (c) => delete c.selectionBehavior, /selectionBehavior/],
    ['bad selectionBehavior', (c) => (c.selectionBehavior = 'exactly-one' as Card['selectionBehavior']), /selectionBehavior/],
    ['update without resource', (c) => delete c.suggestions![0]!.actions![0]!.resource, /resource: required for update/],
    ['create without resource', (c) => { c.suggestions![0]!.actions![0]!.type = 'create'; delete c.suggestions![0]!.actions![0]!.resource; }, /resource: required for create/],
    ['update of a resource without id', (c) => delete (c.suggestions![0]!.actions![0]!.resource as { id?: string }).id, /resource\.id/],
    ['delete without resourceId', (c) => { c.suggestions![0]!.actions![0]! = { type: 'delete', description: 'Remove' }; }, /resourceId: required for delete/],
    ['delete with a bare id', (c) => { c.suggestions![0]!.actions![0]! = { type: 'delete', description: 'Remove', resourceId: '103' }; }, /resourceId/],
    ['action without description', (c) => (c.suggestions![0]!.actions![0]!.description = undefined as unknown as string), /description: required/],
    ['action with bad type', (c) => (c.suggestions![0]!.actions![0]!.type = 'replace' as 'update'), /type: invalid/],
    ['override reason without display', (c) => (c.overrideReasons = [{ system: 'urn:x', code: 'x' }]), /overrideReasons\[0\]/],
    ['link with bad type', (c) => (c.links = [{ label: 'x', url: 'https://x.org', type: 'web' as 'absolute' }]), /links\[0\]\.type/],
    ['appContext on an absolute link', (c) => (c.links = [{ label: 'x', url: 'https://x.org', type: 'absolute', appContext: 'a' }]), /appContext/],
    ['null detail', (c) => ((c as Record<string, unknown>)['detail'] = null), /\$\.cards\[0\]\.detail: empty value/],
    ['"" detail', (c) => (c.detail = ''), /\$\.cards\[0\]\.detail: empty value/],
    ['[] overrideReasons', (c) => (c.overrideReasons = []), /\$\.cards\[0\]\.overrideReasons: empty value/],
    ['{} in the source topic', (c) => (c.source.topic = {} as Card['source']['topic']), /\$\.cards\[0\]\.source\.topic: empty value/],
    ['[] suggestions', (c) => (c.suggestions = []), /\$\.cards\[0\]\.suggestions: empty value/],
    ['null deep inside the resource', (c) => ((c.suggestions![0]!.actions![0]!.resource as unknown as Record<string, unknown>)['note'] = null), /resource\.note: empty value/],
    ['"" deep inside the resource', (c) => ((c.suggestions![0]!.actions![0]!.resource as unknown as Record<string, unknown>)['note'] = [{ text: '' }]), /resource\.note\[0\]\.text: empty value/],
  ])('%s → violation', (_n, mutate, re) => {
    const c = validCard() as Card & Record<string, unknown>;
    mutate(c);
    const errs = checkCdsResponse({ cards: [c] });
    expect(errs.some((e) => re.test(e))).toBe(true);
  });

  test('duplicate card uuids across cards', () => {
    const a = validCard();
    const b = validCard();
    b.uuid = a.uuid!;
    expect(checkCdsResponse({ cards: [a, b] })).toEqual(['$.cards[1].uuid: duplicate']);
  });

  test('empty systemActions is a violation; undefined fields are ignored', () => {
    expect(checkCdsResponse({ cards: [], systemActions: [] })).toEqual(['$.systemActions: empty value']);
    expect(checkCdsResponse({ cards: [{ ...validCard(), detail: undefined }] })).toEqual([]);
  });
});

describe('findEmptyValues', () => {
  // Source: CDS Hooks 2.0.1 JSON rule — no null, "", [] or {} values; `{"cards": []}` is the one allowed empty answer.
  test.each<[string, unknown, string[]]>([
    ['{"cards": []}', { cards: [] }, []],
    ['null', null, ['$']],
    ['{}', {}, ['$']],
    ['[] at the top', [], ['$']],
    ['nested null, "", [], {}', { a: { b: null, c: '', d: [], e: {} } }, ['$.a.b', '$.a.c', '$.a.d', '$.a.e']],
    ['in arrays', { a: [1, null, { x: '' }] }, ['$.a[1]', '$.a[2].x']],
    ['[] under cards[0] is not exempt', { cards: [{ links: [] }] }, ['$.cards[0].links']],
    ['0, false and " " are values', { a: 0, b: false, c: ' ' }, []],
    ['undefined fields are skipped (JSON drops them)', { a: undefined, b: 1 }, []],
  ])('%s', (_n, v, paths) => {
    expect(findEmptyValues(v)).toEqual(paths);
  });
});
