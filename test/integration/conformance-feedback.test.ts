// CDS Hooks 2.0 conformance beyond the shape of the answers (docs/conformance.md): feedback semantics (§Feedback), the
// answer time (requirement 27) and what an EHR that fires only patient-view gets, on the same corpus of real answers
// (test/support/conformance-corpus.ts) as conformance.test.ts.
import { randomUUID } from 'node:crypto';
import type { Card } from '../../src/cds/protocol.js';
import { draftWarfarin, fullPrefetch } from '../fixtures/synthetic-patients.js';
import { answer, hookCall, LAUNCH, useConformanceCorpus } from '../support/conformance-corpus.js';

const env = useConformanceCorpus();

describe('timing', () => {
  // CDS Hooks 2.0 §Providing FHIR resources: "CDS Services SHOULD respond quickly (on the order of 500 ms.)". Measured after
  // the corpus has warmed the process, as the median of 9 calls each way, against the local FHIR test server.
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const cases: [string, () => Promise<void>][] = [
    ['req 27: a warfarin dose call answers in well under 500 ms (median of 9), with full prefetch and with the service querying FHIR itself', async () => {
      const times: Record<'prefetch' | 'queries', number[]> = { prefetch: [], queries: [] };
      for (let i = 0; i < 9; i++) {
        const draft = draftWarfarin(`conf-t-${i}`, 'pgx-1', 5);
        const a = await env.svc.hook('dosing-order-select', hookCall('order-select', 'pgx-1', [draft], { prefetch: fullPrefetch('pgx-1') }));
        const b = await env.svc.hook('dosing-order-select', hookCall('order-select', 'pgx-1', [draft]));
        expect([a.status, a.json.cards.length, b.status, b.json.cards.length]).toEqual([200, 1, 200, 1]);
        times.prefetch.push(a.ms);
        times.queries.push(b.ms);
      }
      expect(median(times.prefetch)).toBeLessThan(500);
      expect(median(times.queries)).toBeLessThan(500);
    }],
  ];
  test.each(cases)('%s', async (_name, run) => run());
});

describe('patient-view only EHRs (e.g. Oracle Health): what they get', () => {
  test('patient-view: an advisory card on an active order (no suggestion, override reasons, the SMART link), never a dose change', () => {
    const cs = answer('patient-view, active clopidogrel').json.cards as Card[];
    expect(cs).toHaveLength(1);
    expect(cs[0]!.indicator).not.toBe('info');
    expect(cs[0]!.summary).toMatch(/clopidogrel/i);
    expect(cs[0]!.suggestions).toBeUndefined();
    expect(cs[0]!.selectionBehavior).toBeUndefined();
    expect(cs[0]!.overrideReasons?.length).toBeGreaterThan(0);
    expect(cs[0]!.links?.[0]).toMatchObject({ type: 'smart', url: LAUNCH });
  });
});

// CDS Hooks 2.0 §Feedback: POST {baseUrl}/cds-services/{id}/feedback with { feedback: [ { card, outcome, acceptedSuggestions,
// overrideReason: { reason, userComment }, outcomeTimestamp } ] }; one call may report several cards.
describe('feedback (CDS Hooks 2.0 §Feedback)', () => {
  const fb = (items: unknown[]) => env.svc.post('/cds-services/dosing-order-select/feedback', JSON.stringify({ feedback: items }));
  const dose = () => answer('warfarin dose, full prefetch').json.cards[0] as Card;
  const clop = () => answer('clopidogrel, CYP2C19 poor metabolizer').json.cards[0] as Card;
  const rows = (uuid: string) => env.svc.store.feedbackRows().filter((r) => r['card_uuid'] === uuid);
  const cases: [string, () => Promise<void>][] = [
    ['feedback: accepted with acceptedSuggestions (the suggestion uuid) and overridden with a reason from the card, in one call, stored before 200', async () => {
      const t = '2026-12-01T10:00:00Z';
      const r = await fb([
        { card: dose().uuid, outcome: 'accepted', acceptedSuggestions: [{ id: dose().suggestions![0]!.uuid }], outcomeTimestamp: t },
        { card: clop().uuid, outcome: 'overridden', overrideReason: { reason: clop().overrideReasons![0], userComment: 'discussed with cardiology' }, outcomeTimestamp: t },
      ]);
      expect([r.status, r.json]).toEqual([200, { stored: 2, duplicates: 0, unknownCards: 0 }]);
      expect(rows(dose().uuid!).map((x) => x['outcome'])).toEqual(['accepted']);
      expect(rows(clop().uuid!).map((x) => x['outcome'])).toEqual(['overridden']);
    }],
    ['feedback: the same report again is a duplicate, not a second outcome', async () => {
      const r = await fb([{ card: dose().uuid, outcome: 'accepted', acceptedSuggestions: [{ id: dose().suggestions![0]!.uuid }], outcomeTimestamp: '2026-12-01T10:00:00Z' }]);
      expect([r.status, r.json]).toEqual([200, { stored: 0, duplicates: 1, unknownCards: 0 }]);
      expect(rows(dose().uuid!)).toHaveLength(1);
    }],
    ['feedback: overridden without a reason (the reason is optional) and with a reason lacking display (as the sandbox sends) are accepted', async () => {
      const cs = answer('carbamazepine, HLA-B*15:02, HLA-A untested').json.cards as Card[];
      const r = await fb([
        { card: cs[0]!.uuid, outcome: 'overridden', outcomeTimestamp: '2026-12-01T10:05:00Z' },
        { card: cs[1]!.uuid, outcome: 'overridden', overrideReason: { reason: { code: cs[1]!.overrideReasons![0]!.code, system: cs[1]!.overrideReasons![0]!.system } }, outcomeTimestamp: '2026-12-01T10:05:00Z' },
      ]);
      expect([r.status, r.json]).toEqual([200, { stored: 2, duplicates: 0, unknownCards: 0 }]);
    }],
    ['feedback: accepted without acceptedSuggestions, an unknown outcome, or an outcomeTimestamp that is not an RFC 3339 date-time → 400 naming the field', async () => {
      const cases2: [unknown, RegExp][] = [
        [{ card: dose().uuid, outcome: 'accepted', outcomeTimestamp: '2026-12-01T10:00:00Z' }, /acceptedSuggestions/],
        [{ card: dose().uuid, outcome: 'ignored', outcomeTimestamp: '2026-12-01T10:00:00Z' }, /outcome/],
        [{ card: dose().uuid, outcome: 'overridden' }, /outcomeTimestamp/],
        [{ card: dose().uuid, outcome: 'overridden', outcomeTimestamp: 'yesterday' }, /outcomeTimestamp/],
        [{ card: dose().uuid, outcome: 'overridden', outcomeTimestamp: '2026-12-01' }, /outcomeTimestamp/], // a date, no time
        [{ card: dose().uuid, outcome: 'overridden', outcomeTimestamp: '2026-12-01T10:00:00' }, /outcomeTimestamp/], // no zone
        [{ card: dose().uuid, outcome: 'overridden', outcomeTimestamp: 'Tue Dec 01 2026 10:00:00 GMT' }, /outcomeTimestamp/],
      ];
      for (const [item, field] of cases2) {
        const r = await fb([item]);
        expect([r.status, r.json.details.join(' ')]).toEqual([400, expect.stringMatching(field)]);
      }
    }],
    ['feedback: a card this service never issued is answered 200 and counted as unknown', async () => {
      const r = await fb([{ card: randomUUID(), outcome: 'overridden', outcomeTimestamp: '2026-12-01T10:00:00Z' }]);
      expect([r.status, r.json]).toEqual([200, { stored: 1, duplicates: 0, unknownCards: 1 }]);
    }],
  ];
  test.each(cases)('%s', async (_name, run) => run());
});

