// The hook path writes one audit record per call with the outcome, ordered drugs and card dimensions — also when it fails.
import path from 'node:path';
import { handleHook, type HookEngine } from '../../src/cds/hookService.js';
import { loadServiceCatalog } from '../../src/cds/services.js';
import { CardTemplates } from '../../src/cards/render.js';
import { loadConfig } from '../../src/config.js';
import { DrugDictionary } from '../../src/domain/drugs.js';
import { EvaluatorRegistry } from '../../src/dosing/registry.js';
import { createLogger } from '../../src/observability/logger.js';
import { AuditedStore } from '../../src/store/resilient.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { orderSelectBody, tempDir } from './helpers.js';

test('an evaluator that throws: the call fails as before, and the audit trail says "error" with the error class', async () => {
  const t = tempDir();
  const backend = new SqliteStore(path.join(t.dir, 'a.sqlite'));
  const store = new AuditedStore({ backend, spoolDir: t.dir });
  await store.init();
  const engine: HookEngine = {
    config: loadConfig({}, { logLevel: 'silent' }),
    catalog: loadServiceCatalog(),
    drugs: DrugDictionary.load(),
    templates: CardTemplates.load(),
    store,
    logger: createLogger('silent'),
    evaluators: new EvaluatorRegistry().register('warfarin', () => {
      throw new RangeError('evaluator bug');
    }),
  };
  const body = orderSelectBody('pgx-1');
  try {
    await expect(handleHook('dosing-order-select', body, { iss: 'https://ehr.test.local', jti: 'j' }, engine)).rejects.toThrow('evaluator bug');
    await store.settle();
    const rows = await backend.reportRows();
    expect(rows).toEqual([]);
    const db = (backend as unknown as { db: { prepare(s: string): { all(): unknown[] } } }).db;
    expect(db.prepare(`SELECT hook_instance, outcome, detail, patient_id FROM hook_call`).all()).toEqual([
      { hook_instance: body.hookInstance, outcome: 'error', detail: 'RangeError', patient_id: 'pgx-1' },
    ]);
  } finally {
    await store.close();
    t.remove();
  }
});
