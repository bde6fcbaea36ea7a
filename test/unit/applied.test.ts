// "Accepted and applied?": the comparison of an intended order with the draft a later call shows, and the card status.
import type { OrderSnapshot } from '../../src/domain/applied.js';
import { appliedStatusOf, compareWithIntended, resolveOpen, sameDose, sameProduct } from '../../src/store/applied.js';

const ref = 'MedicationRequest/mr-1';
const mg = (value: number, frequencyPerDay?: number) => ({ value, unit: 'mg', ...(frequencyPerDay !== undefined ? { frequencyPerDay } : {}) });

describe('compareWithIntended', () => {
  const intended = { orderRef: ref, rxnorm: ['855332'], dose: mg(2.5, 1) };
  test.each([
    ['the suggested order', 'applied', { rxnorm: ['855332'], dose: mg(2.5, 1) }],
    ['within 1e-6 mg', 'applied', { rxnorm: ['855332'], dose: mg(2.5 + 9e-7, 1) }],
    ['2e-6 mg off', 'not-applied', { rxnorm: ['855332'], dose: mg(2.5 + 2e-6, 1) }],
    ['the old draft (the sandbox copies only the product)', 'not-applied', { rxnorm: ['855332'], dose: mg(5, 1) }],
    ['same mg, twice a day', 'not-applied', { rxnorm: ['855332'], dose: mg(2.5, 2) }],
    ['same mg, no frequency', 'not-applied', { rxnorm: ['855332'], dose: mg(2.5) }],
    ['another product', 'not-applied', { rxnorm: ['855318'], dose: mg(2.5, 1) }],
    ['an extra RxNorm code', 'not-applied', { rxnorm: ['855332', '11289'], dose: mg(2.5, 1) }],
    ['no dose readable', 'not-applied', { rxnorm: ['855332'] }],
  ] as [string, 'applied' | 'not-applied', Omit<OrderSnapshot, 'orderRef'>][])('%s → %s', (_name, outcome, seen) => {
    expect(compareWithIntended(intended, { orderRef: ref, ...seen })).toBe(outcome);
  });

  test('a suggestion without RxNorm codes matches any product; two unreadable doses are the same', () => {
    expect(sameProduct([], ['855332'])).toBe(true);
    expect(sameProduct(['855332', '11289'], ['11289', '855332'])).toBe(true);
    expect(sameDose(undefined, undefined)).toBe(true);
    expect(sameDose(undefined, mg(5))).toBe(false);
    expect(sameDose(mg(5), { value: 5, unit: 'g' })).toBe(false);
  });
});

describe('resolveOpen', () => {
  const open = (id: string, suggestionUuid: string, accepted: string[]) => ({ id, intended: { suggestionUuid, orderRef: ref, rxnorm: [], dose: mg(300, 1) }, acceptedSuggestions: accepted });
  test('only accepted suggestions whose order the call shows; the first draft per ref counts', () => {
    const seen = [{ orderRef: ref, rxnorm: ['x'], dose: mg(300, 1) }, { orderRef: ref, rxnorm: [], dose: mg(900, 1) }];
    const out = resolveOpen([open('1', 's1', ['s1']), open('2', 's2', ['s1'])], { hookInstance: 'h', at: '2026-06-01T10:00:00.000Z', seenOrders: seen });
    expect(out).toEqual([{ id: '1', resolution: { outcome: 'applied', at: '2026-06-01T10:00:00.000Z', hookInstance: 'h', seen: seen[0] } }]);
    expect(resolveOpen([open('1', 's1', ['s1'])], { hookInstance: 'h', at: 'x', seenOrders: [{ orderRef: 'MedicationRequest/other', rxnorm: [] }] })).toEqual([]);
  });
});

test('appliedStatusOf: applied wins, then not applied, then not seen again; nothing when no accepted suggestion intended an order', () => {
  expect(appliedStatusOf(['a', 'b'], [{ suggestionUuid: 'a', outcome: 'not-applied' }, { suggestionUuid: 'b', outcome: 'applied' }])).toBe('applied');
  expect(appliedStatusOf(['a', 'b'], [{ suggestionUuid: 'a', outcome: null }, { suggestionUuid: 'b', outcome: 'not-applied' }])).toBe('not-applied');
  expect(appliedStatusOf(['a'], [{ suggestionUuid: 'a' }, { suggestionUuid: 'b', outcome: 'applied' }])).toBe('not-seen-again');
  expect(appliedStatusOf(['c'], [{ suggestionUuid: 'a', outcome: 'applied' }])).toBeUndefined();
});
