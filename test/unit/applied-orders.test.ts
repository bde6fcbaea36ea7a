// What a hook call records for the applied check: the order each update suggestion intends and the drafts it shows,
// both read by the draft reader (toOrder).
import { randomUUID } from 'node:crypto';
import { intendedOrdersOf, seenOrdersOf } from '../../src/cds/appliedOrders.js';
import type { Card, HookRequest } from '../../src/cds/protocol.js';
import { DrugDictionary } from '../../src/domain/drugs.js';
import { draftWarfarin } from '../fixtures/synthetic-patients.js';

const dict = DrugDictionary.load();

test('intended orders: one per update suggestion and order, with RxNorm codes and the reader\'s dose; create/delete suggestions intend none', () => {
  const s1 = randomUUID();
  const s2 = randomUUID();
  const updated = draftWarfarin('mr-1', 'p', 2.5);
  const card: Card = {
    uuid: randomUUID(), summary: 's', indicator: 'warning', source: { label: 'x' }, selectionBehavior: 'at-most-one',
    suggestions: [
      { label: 'dose', uuid: s1, actions: [{ type: 'update', description: 'd', resource: updated }, { type: 'update', description: 'again', resource: updated }] },
      { label: 'replace', uuid: s2, actions: [{ type: 'delete', description: 'd', resourceId: 'MedicationRequest/mr-1' }, { type: 'create', description: 'c', resource: draftWarfarin('new', 'p', 1) }] },
      { label: 'no id', uuid: randomUUID(), actions: [{ type: 'update', description: 'd', resource: { ...updated, id: 'not a valid id!' } }] },
    ],
  };
  expect(intendedOrdersOf(card, dict)).toEqual([{ suggestionUuid: s1, orderRef: 'MedicationRequest/mr-1', rxnorm: ['855332'], dose: { value: 2.5, unit: 'mg', frequencyPerDay: 1 } }]);
});

test('seen orders: every draft of order-select (selected or not) and order-sign, the medications of medication-prescribe, none for patient-view', () => {
  const drafts = { resourceType: 'Bundle', type: 'collection', entry: [{ resource: draftWarfarin('a', 'p', 5) }, { resource: draftWarfarin('b', 'p') }, { resource: draftWarfarin('a', 'p', 1) }] } as const;
  const req = (hook: HookRequest['hook'], context: Record<string, unknown>) => ({ hook, hookInstance: 'h', context: { userId: 'u', patientId: 'p', ...context } }) as unknown as HookRequest;
  const expected = [
    { orderRef: 'MedicationRequest/a', rxnorm: ['855332'], dose: { value: 5, unit: 'mg', frequencyPerDay: 1 } },
    { orderRef: 'MedicationRequest/b', rxnorm: ['855332'] },
  ];
  expect(seenOrdersOf(req('order-select', { selections: ['MedicationRequest/b'], draftOrders: drafts }), dict)).toEqual(expected);
  expect(seenOrdersOf(req('order-sign', { draftOrders: drafts }), dict)).toEqual(expected);
  expect(seenOrdersOf(req('medication-prescribe', { medications: drafts }), dict)).toEqual(expected);
  expect(seenOrdersOf(req('patient-view', { draftOrders: drafts }), dict)).toEqual([]);
});
