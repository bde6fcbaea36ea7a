// CDS Hooks 2.0 conformance, requirement by requirement, on the answers of the service (docs/conformance.md is the
// matrix; test/unit/conformance-matrix.test.ts keeps it in step with ../shared/reference/cds-hooks-2.0-service-requirements.csv).
// Every case is named "req <id>: …" after the requirement id of that list; the spec section is the row's URL there.
// The corpus of real answers is test/support/conformance-corpus.ts; each card rule is checked on every card of it, and
// each case also requires the corpus to contain what it checks (no vacuous pass). Feedback, timing and patient-view-only
// EHRs: conformance-feedback.test.ts.
import { randomUUID } from 'node:crypto';
import { findEmptyValues, SUPPORTED_HOOKS, type Card } from '../../src/cds/protocol.js';
import { loadServiceCatalog } from '../../src/cds/services.js';
import { fullPrefetch } from '../fixtures/synthetic-patients.js';
import { actions, answer, answers, cards, discovery, everyOne, fhirRequests, isAbsoluteUrl, isUuid, LAUNCH, links, ok, overrideReasons, suggestions, topics, useConformanceCorpus } from '../support/conformance-corpus.js';
import { craftToken, standardClaims } from '../support/jwt.js';

const env = useConformanceCorpus();

test('the corpus holds every kind of answer the cases below rely on', () => {
  expect(answers.map((a) => [a.name, a.status])).toEqual([
    ['warfarin dose, full prefetch', 200], ['warfarin, height missing', 200], ['clopidogrel, CYP2C19 poor metabolizer', 200],
    ['carbamazepine, HLA-B*15:02, HLA-A untested', 200], ['order-sign, warfarin 10 mg', 200], ['medication-prescribe', 200],
    ['patient-view, active clopidogrel', 200], ['no guidance', 200], ['FHIR server down, no prefetch', 412],
  ]);
  expect(answer('no guidance').json).toEqual({ cards: [] });
  for (const a of ok().filter((x) => x.name !== 'no guidance')) expect([a.name, a.json.cards.length > 0]).toEqual([a.name, true]);
});

describe('discovery', () => {
  const cases: [string, () => Promise<void>][] = [
    ['req 4, 5, 13: GET {baseUrl}/cds-services answers 200', async () => {
      const { res } = await discovery();
      expect(res.status).toBe(200);
    }],
    ['req 6: the discovery answer is an object with a services array', async () => {
      const { json } = await discovery();
      expect(Object.keys(json)).toEqual(['services']);
      expect(Array.isArray(json.services)).toBe(true);
      expect(json.services).toHaveLength(SUPPORTED_HOOKS.length);
    }],
    ['req 7: every service names its hook (a string, one of the hooks served)', async () => {
      const { json } = await discovery();
      everyOne(json.services, (s) => typeof s['hook'] === 'string' && (SUPPORTED_HOOKS as readonly string[]).includes(s['hook'] as string));
      expect(json.services.map((s) => s['hook']).sort()).toEqual([...SUPPORTED_HOOKS].sort());
    }],
    ['req 8: every service has a title', async () => {
      const { json } = await discovery();
      everyOne(json.services, (s) => typeof s['title'] === 'string' && (s['title'] as string).length > 0);
    }],
    ['req 9: every service has a non-empty description string', async () => {
      const { json } = await discovery();
      everyOne(json.services, (s) => typeof s['description'] === 'string' && (s['description'] as string).trim().length > 0);
    }],
    ['req 10, 16: every service id is a string, and {baseUrl}/cds-services/{id} answers a valid call of its hook with 200', async () => {
      const { json } = await discovery();
      everyOne(json.services, (s) => typeof s['id'] === 'string' && /^[A-Za-z0-9_-]+$/.test(s['id'] as string));
      for (const s of json.services) {
        const hook = s['hook'] as string;
        const context: Record<string, unknown> = { userId: 'Practitioner/example', patientId: 'pgx-1' };
        if (hook === 'order-select') Object.assign(context, { selections: [], draftOrders: { resourceType: 'Bundle', type: 'collection' } });
        if (hook === 'order-sign') context['draftOrders'] = { resourceType: 'Bundle', type: 'collection' };
        if (hook === 'medication-prescribe') context['medications'] = { resourceType: 'Bundle', type: 'collection' };
        const prefetch = { ...fullPrefetch('pgx-1'), medicationRequests: { resourceType: 'Bundle', type: 'searchset', total: 0 } };
        const r = await env.svc.hook(s['id'] as string, { hook, hookInstance: randomUUID(), context, prefetch });
        expect([s['id'], r.status, r.json]).toEqual([s['id'], 200, { cards: [] }]);
      }
    }],
    ['req 11, 29, 36: each service advertises its prefetch templates as an object of key → FHIR query string', async () => {
      const { json } = await discovery();
      const catalog = loadServiceCatalog();
      everyOne(json.services, (s) => {
        const p = s['prefetch'] as Record<string, unknown>;
        return typeof p === 'object' && Object.entries(p).length > 0 && Object.entries(p).every(([k, v]) => /^[A-Za-z][A-Za-z0-9_]*$/.test(k) && typeof v === 'string');
      });
      for (const s of json.services) expect(s['prefetch']).toEqual(catalog.prefetch); // the keys the service reads by
    }],
    ['req 211: service ids are unique in discovery (the service does not update guidance across hooks under one id)', async () => {
      const { json } = await discovery();
      const ids = json.services.map((s) => s['id']);
      expect(new Set(ids).size).toBe(ids.length);
    }],
  ];
  test.each(cases)('%s', async (_name, run) => run());
});

describe('prefetch templates', () => {
  const templates = Object.entries(loadServiceCatalog().prefetch);
  const tokens = templates.flatMap(([k, t]) => [...t.matchAll(/\{\{([^}]*)\}\}/g)].map((m) => [k, m[1]!] as const));
  const USER_TOKENS = ['userPractitionerId', 'userPractitionerRoleId', 'userPatientId', 'userRelatedPersonId'];
  const cases: [string, () => void][] = [
    ['req 55: prefetch tokens are delimited by {{ and }} (no other brace in any template)', () => {
      expect(tokens.length).toBeGreaterThan(0);
      for (const [k, t] of templates) expect([k, t.replace(/\{\{[^{}]*\}\}/g, '')]).toEqual([k, expect.not.stringMatching(/[{}]/)]);
    }],
    ['req 56, 59: a token is context.<field> of the hook context, or one of the four user identifiers', () => {
      everyOne(tokens, ([, t]) => /^context\.[A-Za-z]+$/.test(t) || USER_TOKENS.includes(t));
    }],
    ['req 57: context tokens name root-level primitive fields present in every hook context (patientId)', () => {
      const fields = tokens.filter(([, t]) => t.startsWith('context.')).map(([, t]) => t.slice('context.'.length));
      expect(fields.length).toBeGreaterThan(0);
      // the primitive root-level fields all four hooks share (order-select, order-sign, medication-prescribe, patient-view)
      expect([...new Set(fields)].filter((f) => !['patientId', 'userId', 'encounterId'].includes(f))).toEqual([]);
    }],
  ];
  test.each(cases)('%s', (_name, run) => run());
});

describe('HTTP, JSON and security of every answer', () => {
  const cases: [string, () => Promise<void>][] = [
    ['req 1: every answer is JSON (discovery, hooks, 412, 400, 401, 404, feedback)', async () => {
      const bad = await env.svc.post('/cds-services/dosing-order-select', '{"hook":');
      const unauth = await fetch(`${env.svc.url}/cds-services`);
      const unknown = await env.svc.post('/cds-services/nope', '{}');
      const fb = await env.svc.post('/cds-services/dosing-order-select/feedback', JSON.stringify({ feedback: [{ card: randomUUID(), outcome: 'overridden', outcomeTimestamp: new Date().toISOString() }] }));
      const { res } = await discovery();
      const all = [...answers.map((a) => a.headers.get('content-type')), res.headers.get('content-type'), unauth.headers.get('content-type')];
      everyOne(all, (ct) => /^application\/json\b/.test(ct ?? ''));
      expect([bad.status, typeof bad.json.error, unknown.status, typeof unknown.json.error, fb.status, typeof fb.json]).toEqual([400, 'string', 404, 'string', 200, 'object']);
      expect(await unauth.json()).toEqual({ error: 'unauthorized' });
    }],
    ['req 2, 168: every CDS answer tells the client to use HTTPS only (Strict-Transport-Security)', async () => {
      const { res } = await discovery();
      everyOne([...answers.map((a) => a.headers), res.headers], (h) => /max-age=\d{7,}/.test(h.get('strict-transport-security') ?? ''));
    }],
    ['req 3: no null, "", [] or {} anywhere in an answer (the empty cards array excepted)', async () => {
      const { json } = await discovery();
      const fb = await env.svc.post('/cds-services/dosing-order-select/feedback', JSON.stringify({ feedback: [{ card: randomUUID(), outcome: 'overridden', outcomeTimestamp: new Date().toISOString() }] }));
      everyOne([json, fb.json, ...answers.map((a) => a.json)], (body) => findEmptyValues(body).length === 0);
    }],
    ['req 176: discovery, hook and feedback calls without a client JWT are refused (401)', async () => {
      const statuses = await Promise.all([
        fetch(`${env.svc.url}/cds-services`).then((r) => r.status),
        fetch(`${env.svc.url}/cds-services/dosing-order-select`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }).then((r) => r.status),
        fetch(`${env.svc.url}/cds-services/dosing-order-select/feedback`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }).then((r) => r.status),
      ]);
      expect(statuses).toEqual([401, 401, 401]);
    }],
    ['req 199: a token without jku is verified with the key set configured out of band (inline jwks in the client entry)', async () => {
      const token = await env.svc.ehr.sign(`${env.svc.url}/cds-services`);
      expect(JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString())).not.toHaveProperty('jku');
      expect(env.svc.ehr.trusted.jwks?.keys.length).toBeGreaterThan(0);
      expect(env.svc.ehr.trusted.jku).toBeUndefined();
      const res = await fetch(`${env.svc.url}/cds-services`, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(200);
    }],
    ['req 201: a token with alg none is refused by the service (401), signature empty or not', async () => {
      const url = `${env.svc.url}/cds-services`;
      for (const sig of ['', 'AAAA']) {
        const res = await fetch(url, { headers: { authorization: `Bearer ${craftToken({ alg: 'none', typ: 'JWT', kid: env.svc.ehr.kid }, standardClaims(env.svc.ehr.iss, url), sig)}` } });
        expect([sig, res.status]).toEqual([sig, 401]);
      }
    }],
    ['req 208: CORS: the preflight is answered without a token, and answers carry Access-Control-Allow-Origin', async () => {
      const pre = await fetch(`${env.svc.url}/cds-services/dosing-order-select/feedback`, { method: 'OPTIONS', headers: { origin: 'https://sandbox.cds-hooks.org', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' } });
      expect(pre.status).toBe(204);
      expect(pre.headers.get('access-control-allow-methods')).toMatch(/POST/);
      expect(pre.headers.get('access-control-allow-headers')).toMatch(/Authorization/);
      everyOne(answers, (a) => a.headers.get('access-control-allow-origin') === '*');
    }],
  ];
  test.each(cases)('%s', async (_name, run) => run());
});

describe('hook answers', () => {
  const cases: [string, () => void][] = [
    ['req 54: Patient neither prefetched nor obtainable from the FHIR server → 412', () => {
      const a = answer('FHIR server down, no prefetch');
      expect(a.status).toBe(412);
      expect(typeof a.json.error).toBe('string');
    }],
    ['req 61: every FHIR query the service made carried the EHR access token (and the server, which requires it, answered)', () => {
      everyOne(fhirRequests, (r) => r.bearer);
      expect(fhirRequests.some((r) => r.url.startsWith('/Patient/conf-clop'))).toBe(true);
      expect(answer('clopidogrel, CYP2C19 poor metabolizer').json.cards[0].indicator).toBe('critical'); // the genotype was read with it
    }],
    ['req 74: a successful answer is 200 with an object holding a cards array', () => {
      everyOne(answers.filter((a) => a.status === 200), (a) => Array.isArray(a.json.cards));
      expect(ok().length).toBe(8);
    }],
    ['req 75: systemActions, when present, is an array of actions (the service sends none: it changes no record by itself)', () => {
      everyOne(ok(), (a) => a.json.systemActions === undefined || (Array.isArray(a.json.systemActions) && a.json.systemActions.length > 0));
      expect(ok().filter((a) => 'systemActions' in a.json)).toEqual([]);
    }],
    ['req 77: no decision support → 200 with an empty cards array', () => {
      expect(answer('no guidance')).toMatchObject({ status: 200, json: { cards: [] } });
    }],
    ['req 214: no extension on the wire, or else a JSON object', () => {
      const found: unknown[] = [];
      const walk = (v: unknown): void => {
        if (Array.isArray(v)) v.forEach(walk);
        else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) (k === 'extension' && !('resourceType' in v) ? found.push(x) : walk(x));
      };
      ok().forEach((a) => walk(a.json));
      expect(found.filter((x) => !(x && typeof x === 'object' && !Array.isArray(x)))).toEqual([]);
    }],
  ];
  test.each(cases)('%s', (_name, run) => run());
});

describe('cards', () => {
  const cases: [string, () => void][] = [
    ['req 80: every card has a uuid, a string unique within the corpus', () => {
      everyOne(cards(), ({ c }) => isUuid(c.uuid));
      expect(new Set(cards().map(({ c }) => c.uuid)).size).toBe(cards().length);
    }],
    ['req 83: every card has a summary string of fewer than 140 characters', () => {
      everyOne(cards(), ({ c }) => typeof c.summary === 'string' && c.summary.length > 0 && c.summary.length < 140);
    }],
    ['req 85: detail is GitHub Flavored Markdown: tables have a delimiter row and the same cell count in every row, no raw HTML', () => {
      const details = cards().map(({ c }) => c.detail).filter((d): d is string => d !== undefined);
      everyOne(details, (d) => typeof d === 'string');
      const cells = (line: string) => line.replace(/\\\|/g, '').replace(/^\||\|$/g, '').split('|').length;
      let tables = 0;
      for (const d of details) {
        expect(d).not.toMatch(/<\/?[A-Za-z][^>]*>/);
        const lines = d.split('\n');
        for (let i = 0; i < lines.length; i++) {
          if (!lines[i]!.startsWith('|') || lines[i - 1]?.startsWith('|')) continue;
          tables++;
          expect(lines[i + 1]).toMatch(/^\|(\s*:?-{3,}:?\s*\|)+$/);
          const n = cells(lines[i]!);
          for (let j = i; j < lines.length && lines[j]!.startsWith('|'); j++) expect([lines[j], cells(lines[j]!)]).toEqual([lines[j], n]);
        }
      }
      expect(tables).toBeGreaterThan(0);
    }],
    ['req 87, 88: every card has an indicator string: info, warning or critical', () => {
      everyOne(cards(), ({ c }) => ['info', 'warning', 'critical'].includes(c.indicator));
    }],
    ['req 89: the indicator follows urgency: critical to avoid a drug, warning for a dose far from the draft, info for a test suggestion', () => {
      expect(answer('clopidogrel, CYP2C19 poor metabolizer').json.cards[0].indicator).toBe('critical');
      expect(answer('order-sign, warfarin 10 mg').json.cards[0].indicator).toBe('warning');
      const cbz = answer('carbamazepine, HLA-B*15:02, HLA-A untested').json.cards as Card[];
      expect(cbz.map((c) => [c.source.topic?.code, c.indicator]).sort()).toEqual([['pgx-avoid', 'critical'], ['pgx-test', 'info']]);
    }],
    ['req 90, 105: every card has a source object with a label string', () => {
      everyOne(cards(), ({ c }) => typeof c.source === 'object' && typeof c.source.label === 'string' && c.source.label.length > 0);
    }],
    ['req 107: source.url, when sent, is an absolute URL', () => {
      everyOne(cards().filter(({ c }) => c.source.url !== undefined), ({ c }) => isAbsoluteUrl(c.source.url));
    }],
    ['req 109, 110: source.url is the evidence (the same for every patient), the card-specific drill-down is the smart link', () => {
      const withUrl = cards().filter(({ c }) => c.source.url !== undefined);
      everyOne(withUrl, ({ c }) => !/[?#]/.test(c.source.url!) && !c.source.url!.includes(c.uuid!) && !/pgx-1|nohgt-1|conf-/.test(c.source.url!));
      expect(new Set(withUrl.filter(({ c }) => c.source.topic?.code === 'warfarin-dose').map(({ c }) => c.source.url)).size).toBe(1);
      everyOne(cards(), ({ c }) => c.links?.some((l) => l.type === 'smart' && l.appContext !== undefined) === true);
    }],
    ['req 111: source.icon, when sent, is an absolute URL (the service sends none)', () => {
      expect(cards().filter(({ c }) => c.source.icon !== undefined && !isAbsoluteUrl(c.source.icon))).toEqual([]);
    }],
    ['req 115, 216, 217, 220: source.topic is a Coding: system and code strings, display a string when sent', () => {
      everyOne(topics(), (t) => typeof t.system === 'string' && t.system.length > 0 && typeof t.code === 'string' && t.code.length > 0 && (t.display === undefined || typeof t.display === 'string'));
    }],
    ['req 92, 94: suggestions, when sent, are an array of suggestion objects', () => {
      const withS = cards().filter(({ c }) => c.suggestions !== undefined);
      everyOne(withS, ({ c }) => Array.isArray(c.suggestions) && c.suggestions.length > 0 && c.suggestions.every((s) => typeof s === 'object'));
      expect(cards().some(({ c }) => c.suggestions === undefined)).toBe(true); // optional: the missing-data card has none
    }],
    ['req 93, 95, 96: a card with suggestions has selectionBehavior, a string: at-most-one or any', () => {
      everyOne(cards().filter(({ c }) => c.suggestions?.length), ({ c }) => c.selectionBehavior === 'at-most-one' || c.selectionBehavior === 'any');
    }],
    ['req 98, 216, 217, 218: overrideReasons is an array of Codings with system and code strings', () => {
      everyOne(cards().filter(({ c }) => c.overrideReasons !== undefined), ({ c }) => Array.isArray(c.overrideReasons));
      everyOne(overrideReasons(), (o) => typeof o.system === 'string' && o.system.length > 0 && typeof o.code === 'string' && o.code.length > 0);
    }],
    ['req 100, 136, 219: every override reason has a human-readable display string', () => {
      everyOne(overrideReasons(), (o) => typeof o.display === 'string' && o.display.trim().length > 2 && o.display !== o.code);
    }],
    ['req 103, 138, 139, 141, 142: links are an array of links with label, absolute url and type absolute or smart', () => {
      everyOne(links(), (l) => typeof l.label === 'string' && l.label.length > 0 && isAbsoluteUrl(l.url) && (l.type === 'absolute' || l.type === 'smart'));
      expect(links().some((l) => l.url === LAUNCH && l.type === 'smart')).toBe(true);
    }],
    ['req 144: appContext, when sent, is a string', () => {
      everyOne(links().filter((l) => l.appContext !== undefined), (l) => typeof l.appContext === 'string' && JSON.parse(l.appContext).recommendationId !== undefined);
    }],
    ['req 147: an absolute link carries no appContext', () => {
      expect(links().filter((l) => l.type === 'absolute' && l.appContext !== undefined)).toEqual([]);
      expect(links().filter((l) => l.appContext !== undefined && l.type !== 'smart')).toEqual([]);
    }],
  ];
  test.each(cases)('%s', (_name, run) => run());
});

describe('suggestions and actions', () => {
  const cases: [string, () => void][] = [
    ['req 117: every suggestion has a label string', () => {
      everyOne(suggestions(), ({ s }) => typeof s.label === 'string' && s.label.length > 0);
    }],
    ['req 119: suggestion uuids are strings (UUIDs, unique, distinct from card uuids: feedback names them)', () => {
      everyOne(suggestions(), ({ s }) => isUuid(s.uuid));
      const all = [...cards().map(({ c }) => c.uuid), ...suggestions().map(({ s }) => s.uuid)];
      expect(new Set(all).size).toBe(all.length);
    }],
    ['req 121: isRecommended, when sent, is a boolean', () => {
      everyOne(suggestions().filter(({ s }) => s.isRecommended !== undefined), ({ s }) => typeof s.isRecommended === 'boolean');
    }],
    ['req 124: actions, when sent, are an array of action objects', () => {
      everyOne(suggestions(), ({ s }) => s.actions === undefined || (Array.isArray(s.actions) && s.actions.length > 0));
      expect(actions().length).toBeGreaterThan(0);
    }],
    ['req 125: the actions of one suggestion form one change: replacing a drug deletes the draft and creates the alternative together', () => {
      const replace = suggestions().filter(({ s }) => /^Replace /.test(s.label));
      everyOne(replace, ({ s, a }) => s.actions!.length === 2 && s.actions![0]!.type === 'delete' && a.drafts.has(s.actions![0]!.resourceId!) && s.actions![1]!.type === 'create');
      // no suggestion holds alternatives to pick from: at most one create or update per resource type
      everyOne(suggestions(), ({ s }) => {
        const writes = (s.actions ?? []).filter((x) => x.type !== 'delete').map((x) => x.resource!.resourceType);
        return new Set(writes).size === writes.length;
      });
    }],
    ['req 127: every action type is a string: create, update or delete', () => {
      everyOne(actions(), ({ x }) => ['create', 'update', 'delete'].includes(x.type));
      expect(new Set(actions().map(({ x }) => x.type))).toEqual(new Set(['create', 'update', 'delete']));
    }],
    ['req 128: every action has a description string', () => {
      everyOne(actions(), ({ x }) => typeof x.description === 'string' && x.description.length > 0);
    }],
    ['req 130, 131: a create action holds a new FHIR resource (a type, no id of a draft, status draft)', () => {
      everyOne(actions().filter(({ x }) => x.type === 'create'), ({ a, x }) => typeof x.resource?.resourceType === 'string' && !a.drafts.has(`${x.resource.resourceType}/${x.resource.id}`) && (x.resource as { status?: string }).status === 'draft');
      expect(new Set(actions().filter(({ x }) => x.type === 'create').map(({ x }) => x.resource!.resourceType))).toEqual(new Set(['MedicationRequest', 'ServiceRequest']));
    }],
    ['req 130, 132: an update action holds the whole draft resource (every field of the draft kept), not just the changed fields', () => {
      everyOne(actions().filter(({ x }) => x.type === 'update'), ({ a, x }) => {
        const draft = a.drafts.get(`${x.resource!.resourceType}/${x.resource!.id}`);
        if (!draft) return false;
        const r = x.resource as unknown as Record<string, unknown>;
        return Object.keys(draft).every((k) => k in r) && JSON.stringify(r['medicationCodeableConcept']) === JSON.stringify(draft.medicationCodeableConcept) && JSON.stringify(r['subject']) === JSON.stringify(draft.subject);
      });
    }],
    ['req 133: a delete action does not carry the id in resource', () => {
      everyOne(actions().filter(({ x }) => x.type === 'delete'), ({ x }) => x.resource === undefined);
    }],
    ['req 134, 135: a delete action carries resourceId, a string Type/id naming a draft of the call', () => {
      everyOne(actions().filter(({ x }) => x.type === 'delete'), ({ a, x }) => typeof x.resourceId === 'string' && a.drafts.has(x.resourceId));
    }],
  ];
  test.each(cases)('%s', (_name, run) => run());
});

