// The service's FHIR queries survive a proxy that collapses "//" in the raw request target, as the SMART App Launcher
// v2 FHIR proxy does (issue 17 scope 3). Real FHIR test server process; between it and the service a real HTTP proxy
// that rewrites every "//" of the request target to "/" before forwarding. Hooks (order-select, order-sign, patient-view) are called WITHOUT prefetch, so the
// service queries FHIR itself; the answers through the proxy must equal the answers from the server directly.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FhirResource, MedicationRequest } from 'fhir/r4';
import { checkCdsResponse } from '../../src/cds/protocol.js';
import { encodeSearchQuery } from '../../src/fhir/searchUrl.js';
import { draftOrder, ORAL, orderSelectCall } from '../fixtures/orders.js';
import { activeMed, draftClopidogrel, draftWarfarin, patient, pharmvarGenotype, syntheticResources, vital } from '../fixtures/synthetic-patients.js';
import { startFhirServer, type RunningFhirServer } from '../support/fhir-server/index.js';
import { startTestService, type TestService } from '../support/service.js';

const TOKEN = 'ehr-access-token-proxy';
const daysAgo = (n: number): string => new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 10);

interface CollapsingProxy {
  url: string;
  /** raw request targets as received, before the rewrite */
  received: string[];
  close(): Promise<void>;
}

/** An HTTP proxy to `upstream` that collapses every run of "/" in the request target (path and query) to one. */
async function startCollapsingProxy(upstream: string): Promise<CollapsingProxy> {
  const up = new URL(upstream);
  const received: string[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    received.push(req.url ?? '');
    const target = (req.url ?? '/').replace(/\/{2,}/g, '/');
    const fwd = request({ host: up.hostname, port: up.port, method: req.method, path: target, headers: { ...req.headers, host: up.host } }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    fwd.on('error', () => {
      res.writeHead(502).end();
    });
    req.pipe(fwd);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

function resources(): FhirResource[] {
  return [
    ...syntheticResources(),
    patient('px-ren', `${new Date().getUTCFullYear() - 80}-01-01`, 'male'),
    vital('px-ren-wt', 'px-ren', '29463-7', 'Body weight', 60, 'kg', 'kg', daysAgo(2)),
    vital('px-ren-cr', 'px-ren', '2160-0', 'Creatinine [Mass/volume] in Serum or Plasma', 2.0, 'mg/dL', 'mg/dL', daysAgo(2)),
    patient('px-mon', '1958-04-02', 'male'),
    pharmvarGenotype('px-mon-2c19', 'px-mon', 'HGNC:2621', 'CYP2C19', '*2/*2', '2025-06-01'),
    activeMed('px-mon-clop', 'px-mon', '32968', 'clopidogrel 75 MG Oral Tablet'),
  ];
}

let fhir: RunningFhirServer;
let proxy: CollapsingProxy;
let svc: TestService;
beforeAll(async () => {
  [fhir, svc] = await Promise.all([startFhirServer({ token: TOKEN, seed: resources() }), startTestService({ 'fhir.deadlineMs': 2000, requestDeadlineMs: 4000 })]);
  proxy = await startCollapsingProxy(fhir.url);
  svc.allowFhirServer(fhir.url, proxy.url);
}, 30000);
afterAll(async () => {
  await Promise.all([proxy?.close(), fhir?.stop(), svc?.close()]);
});

const gabapentin = (): MedicationRequest =>
  draftOrder('px-g1', 'px-ren', { rxcui: '25480', text: 'gabapentin 600 MG Oral Tablet' }, { mg: 600, timing: { frequency: 3, period: 1, periodUnit: 'd' }, route: ORAL });

/** What the prescriber gets, without the per-call ids. */
function answer(cards: any[]): unknown {
  return cards.map((c) => ({ summary: c.summary, indicator: c.indicator, detail: c.detail, suggestions: (c.suggestions ?? []).map((s: any) => s.label) }));
}

describe('the proxy is a real hazard for raw token searches', () => {
  test('a raw "system|code" search finds nothing through the proxy; the encoded one finds the weight', async () => {
    const get = async (base: string, q: string) => {
      const r = await fetch(`${base}/${q}`, { headers: { authorization: `Bearer ${TOKEN}`, accept: 'application/fhir+json' } });
      return ((await r.json()) as { entry?: unknown[] }).entry?.length ?? 0;
    };
    const raw = 'Observation?patient=pgx-1&code=http://loinc.org|29463-7';
    expect(await get(fhir.url, raw)).toBe(2);
    expect(await get(proxy.url, raw)).toBe(0); // "http:/loinc.org"
    expect(await get(proxy.url, encodeSearchQuery(raw))).toBe(2);
  });
});

// Source of the expected facts: test/fixtures/synthetic-patients.ts (pgx-1: 176 lb, CYP2C9 *1/*3, VKORC1 C/T text;
// cyp-1: CYP2C19 *2/*2 with NSTEMI), the renal patient above (creatinine 2.0 mg/dL, 60 kg, 80 y → CrCl 25).
describe.each([
  ['warfarin order-select (weight, height, genotype, amiodarone)', 'pgx-1', () => draftWarfarin('px-w1', 'pgx-1', 5), [/\| Weight \| 79\.8 kg \| Observation\/pgx-1-wt/, /\| CYP2C9 \| \\\*1\/\\\*3 \| Observation\/pgx-1-cyp2c9/, /Amiodarone \| taking/]],
  ['clopidogrel order-select (CYP2C19 genotype, NSTEMI)', 'cyp-1', () => draftClopidogrel('px-c1', 'cyp-1'), [/CYP2C19 Poor Metabolizer/, /\| CYP2C19 \| \\\*2\/\\\*2 \|/]],
  ['gabapentin order-select (creatinine, weight)', 'px-ren', gabapentin, [/Observation\/px-ren-cr/, /25 mL\/min/]],
] as const)('%s without prefetch', (_name, patientId, draft, facts) => {
  test('same cards through the //-collapsing proxy as directly, with the facts read', async () => {
    const direct = await svc.hook('dosing-order-select', orderSelectCall(fhir.url, TOKEN, patientId, draft()));
    proxy.received.length = 0;
    const viaProxy = await svc.hook('dosing-order-select', orderSelectCall(proxy.url, TOKEN, patientId, draft()));
    expect([direct.status, viaProxy.status]).toEqual([200, 200]);
    expect(checkCdsResponse(viaProxy.json)).toEqual([]);
    expect(viaProxy.json.cards.length).toBeGreaterThan(0);
    expect(answer(viaProxy.json.cards)).toEqual(answer(direct.json.cards));
    const text = viaProxy.json.cards.map((c: any) => `${c.summary}\n${c.detail}`).join('\n');
    for (const f of facts) expect(text).toMatch(f);
    expect(text).not.toMatch(/no .* result on file|weight (is )?missing|missing weight/i);
    // the service's queries did go through the proxy, and none had a "//" for it to collapse
    expect(proxy.received.length).toBeGreaterThan(0);
    for (const u of proxy.received) expect(u).not.toMatch(/\/\//);
  });
});

// the other hooks: order-sign (all drafts) and patient-view (active orders re-checked: medications and genotype queried)
test.each([
  ['order-sign, gabapentin at CrCl 25', 'dosing-order-sign', (server: string) => {
    const call = orderSelectCall(server, TOKEN, 'px-ren', gabapentin()) as Record<string, any>;
    return { ...call, hook: 'order-sign', context: { userId: call['context'].userId, patientId: 'px-ren', draftOrders: call['context'].draftOrders } };
  }, /Observation\/px-ren-cr/],
  ['patient-view, active clopidogrel with CYP2C19 *2/*2', 'dosing-monitor', (server: string) => ({
    hook: 'patient-view',
    hookInstance: randomUUID(),
    fhirServer: server,
    fhirAuthorization: { access_token: TOKEN, token_type: 'Bearer', expires_in: 300, scope: 'patient/*.read', subject: 'cds-service', patient: 'px-mon' },
    context: { userId: 'Practitioner/example', patientId: 'px-mon' },
  }), /CYP2C19 Poor Metabolizer/],
] as const)('%s without prefetch: same cards through the proxy', async (_n, service, body, fact) => {
  const direct = await svc.hook(service, body(fhir.url));
  proxy.received.length = 0;
  const viaProxy = await svc.hook(service, body(proxy.url));
  expect([direct.status, viaProxy.status]).toEqual([200, 200]);
  expect(checkCdsResponse(viaProxy.json)).toEqual([]);
  expect(viaProxy.json.cards.length).toBeGreaterThan(0);
  expect(answer(viaProxy.json.cards)).toEqual(answer(direct.json.cards));
  expect(viaProxy.json.cards.map((c: any) => `${c.summary}\n${c.detail}`).join('\n')).toMatch(fact);
  expect(proxy.received.length).toBeGreaterThan(0);
});

describe('every query the service builds is percent-encoded', () => {
  test('config/services.json: no raw "/", ":" or "|" in any prefetch query string', () => {
    const cfg = JSON.parse(readFileSync('config/services.json', 'utf8')) as { prefetch: Record<string, string> };
    const keys = Object.entries(cfg.prefetch);
    expect(keys.length).toBeGreaterThan(5);
    for (const [key, tpl] of keys) {
      const q = tpl.split('?')[1] ?? '';
      expect({ key, raw: /[/:|]/.test(q.replace(/\{\{[^}]*\}\}/g, '')) }).toEqual({ key, raw: false });
    }
  });

  test.each([
    ['https://ehr.example/fhir/Observation?code=http://loinc.org|29463-7,http://loinc.org|3141-9&_count=10', 'https://ehr.example/fhir/Observation?code=http%3A%2F%2Floinc.org%7C29463-7,http%3A%2F%2Floinc.org%7C3141-9&_count=10'],
    ['https://ehr.example/fhir?_getpages=abc&_getpagesoffset=20', 'https://ehr.example/fhir?_getpages=abc&_getpagesoffset=20'],
    ['https://ehr.example/fhir/Patient/1', 'https://ehr.example/fhir/Patient/1'],
    ['Observation?patient=p%2F1&code=http%3A%2F%2Floinc.org%7C8302-2#x/y', 'Observation?patient=p%2F1&code=http%3A%2F%2Floinc.org%7C8302-2#x/y'],
  ])('next-page link %s', (raw, encoded) => {
    expect(encodeSearchQuery(raw)).toBe(encoded);
  });
});
