// Hostile strings from the EHR that must not reach a card or the logs raw (issue 21 scope 3), through the REAL service:
// resource ids outside the FHIR id pattern never appear in card markdown (no tracking image, no phishing link: the
// source is shown as "Observation/(invalid id)"), and a hookInstance that is not a UUID is refused with 400.
import { fullPrefetch, orderSelectBody, proposedDoses, writeJson } from '../support/robustness.js';
import { startTestService, type TestService } from '../support/service.js';

let svc: TestService;
beforeAll(async () => {
  svc = await startTestService();
}, 30000);
afterAll(async () => {
  await svc?.close();
});

const hook = (body: unknown) => svc.post('/cds-services/dosing-order-select', writeJson(body));
const HOSTILE_IDS = ['![img](http://tracker.example/p.png)', '[open chart](https://phish.example/login)', '<img src=x onerror=alert(1)>', 'a'.repeat(65), 'w 1'];

/** the prefetch with every weight Observation's id replaced */
function withWeightId(id: string): Record<string, unknown> {
  const prefetch = fullPrefetch('pgx-1') as Record<string, any>;
  for (const v of Object.values(prefetch)) {
    for (const e of Array.isArray(v?.entry) ? v.entry : []) {
      const r = e?.resource;
      if (r?.resourceType === 'Observation' && JSON.stringify(r.code ?? {}).includes('29463-7')) r.id = id;
    }
  }
  return prefetch;
}

describe('resource ids outside the FHIR id pattern', () => {
  test.each(HOSTILE_IDS)('weight Observation id %p: the dose card, the id nowhere in it', async (id) => {
    const r = await hook(orderSelectBody('https://ehr.test.local/fhir', { prefetch: withWeightId(id) }));
    expect(r.status).toBe(200);
    expect(proposedDoses(r.json)).toHaveLength(1);
    const text = JSON.stringify(r.json);
    expect(text).not.toContain(JSON.stringify(id).slice(1, -1));
    expect(text).not.toMatch(/!\[img\]|tracker\.example|phish\.example|<img|onerror/);
    expect(text).toContain('Observation/(invalid id)');
  });
});

describe('hookInstance', () => {
  test.each([
    ['not a UUID', 'call-1'],
    ['4 KB of text', 'x'.repeat(4096)],
    ['markdown', '![img](http://x)'],
    ['a UUID with a newline', 'd1577c69-dfbe-44ad-ba6d-3e05e953b2ea\n'],
  ])('%s → 400, not echoed', async (_n, hookInstance) => {
    const r = await hook({ ...orderSelectBody('https://ehr.test.local/fhir'), hookInstance });
    expect(r.status).toBe(400);
    expect(r.json.details).toEqual(expect.arrayContaining([expect.stringMatching(/^hookInstance: must be a UUID/)]));
    expect(r.text).not.toContain(hookInstance.slice(0, 40));
  });

  test('a UUID is accepted (any version)', async () => {
    const r = await hook({ ...orderSelectBody('https://ehr.test.local/fhir'), hookInstance: '00000000-0000-0000-0000-000000000000' });
    expect(r.status).toBe(200);
  });
});

