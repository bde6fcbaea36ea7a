// A second process on the same SQLite file (as when a restarted service starts before the old one exits): writes
// hook records and feedback in a loop until its stdin closes, then prints how many writes failed and why.
import { randomUUID } from 'node:crypto';
import { SqliteStore } from '../../src/store/sqlite.js';
import { hookRecord, overridden, recommendation } from '../store/helpers.js';

const store = new SqliteStore(process.argv[2]!);
let writes = 0;
const failures: string[] = [];
let stop = false;
process.stdin.on('close', () => (stop = true)).resume();
process.stdout.write('ready\n');
while (!stop) {
  const r = hookRecord([recommendation({ drug: 'warfarin' })], { patientId: `other-${randomUUID().slice(0, 6)}` });
  try {
    await store.recordHook(r);
    await store.recordFeedback('dosing-order-select', 'https://ehr.test.local', [overridden(r.cardUuids[0]!, new Date().toISOString())]);
    writes++;
  } catch (e) {
    failures.push((e as { code?: string }).code ?? (e as Error).name);
  }
  await new Promise((res) => setImmediate(res));
}
await store.close();
process.stdout.write(JSON.stringify({ writes, failures }) + '\n');
