// Two service processes sharing one PostgreSQL behind one public URL: migrations applied once, a hook on one, feedback and
// audit through the other, and a token accepted by one refused by the other (replay protection shared through the database).
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { makeTestClient, trustedClientsFor } from '../support/jwt.js';
import { freePort } from '../support/service.js';
import { createPgSchema, orderSelectBody, tempDir, waitFor } from './helpers.js';

const ADMIN_TOKEN = 'replica-admin-token-0123456789';
// as behind a load balancer: both replicas are called at the same public URL (the JWT audience)
const PUBLIC = 'https://cds.replicas.test';

test('two replicas on one PostgreSQL: hook on the first, feedback on the second, the recommendation read through the second', async () => {
  const schema = await createPgSchema();
  const t = tempDir('pgx-replicas-');
  const ehr = await makeTestClient({ alg: 'ES384', iss: 'https://ehr.replicas.test' });
  const clientsFile = path.join(t.dir, 'clients.json');
  writeFileSync(clientsFile, JSON.stringify(trustedClientsFor(ehr)));
  const ports = [await freePort(), await freePort()];
  const procs: { proc: ChildProcess; out: () => string; url: string }[] = ports.map((port, i) => {
    const url = `http://127.0.0.1:${port}`;
    const proc = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
      env: {
        ...process.env, NODE_OPTIONS: '', PORT: String(port), PUBLIC_BASE_URL: PUBLIC, DATA_DIR: path.join(t.dir, `replica-${i}`), DATABASE_URL: schema.url,
        CDS_CLIENTS_FILE: clientsFile, ADMIN_TOKEN, LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let buf = '';
    proc.stdout!.on('data', (d) => (buf += String(d)));
    proc.stderr!.on('data', (d) => (buf += String(d)));
    return { proc, out: () => buf, url };
  });
  const [a, b] = procs as [(typeof procs)[0], (typeof procs)[0]];
  const post = async (base: string, p: string, body: unknown, authorization?: string) => {
    const res = await fetch(`${base}${p}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: authorization ?? (await ehr.bearer(`${PUBLIC}${p}`)) }, body: JSON.stringify(body) });
    return { status: res.status, json: (await res.json()) as any };
  };
  const admin = async (base: string, p: string) => {
    const res = await fetch(`${base}${p}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    return { status: res.status, json: (await res.json()) as any };
  };
  try {
    await Promise.all(procs.map((p) => waitFor(async () => (await fetch(`${p.url}/readyz`)).status === 200, 20000, `${p.url} ready`)));
    // both started together; exactly one applied the migrations, the other found them
    const logs = procs.map((p) => p.out().split('\n').filter((l) => l.includes('"event":"store_ready"')).map((l) => JSON.parse(l) as { appliedMigrations: number[] }));
    expect(logs.map((l) => l.length)).toEqual([1, 1]);
    expect(logs.map((l) => l[0]!.appliedMigrations).sort()).toEqual([[], [1, 2, 3, 4, 5, 6]]);
    expect(await schema.query(`SELECT version FROM $schema.schema_migrations ORDER BY version`)).toEqual([{ version: 1 }, { version: 2 }, { version: 3 }, { version: 4 }, { version: 5 }, { version: 6 }]);

    const token = await ehr.bearer(`${PUBLIC}/cds-services/dosing-order-select`);
    const hook = await post(a.url, '/cds-services/dosing-order-select', orderSelectBody('pgx-1'), token);
    expect(hook.status).toBe(200);
    // the same token replayed to the other replica: refused
    expect((await post(b.url, '/cds-services/dosing-order-select', orderSelectBody('pgx-1'), token)).status).toBe(401);
    expect(await (await fetch(`${b.url}/metrics`)).text()).toMatch(/^cds_auth_rejected_total\{reason="replayed_jti"\} 1$/m);
    const card = hook.json.cards[0];
    // the audit write is asynchronous: the second replica sees it within moments
    await waitFor(async () => (await admin(b.url, `/admin/cards/${card.uuid}`)).status === 200, 5000, 'the card on replica B');
    const fb = await post(b.url, '/cds-services/dosing-order-select/feedback', {
      feedback: [{ card: card.uuid, outcome: 'overridden', overrideReason: { reason: { code: 'patient-preference', display: 'Patient preference' } }, outcomeTimestamp: new Date().toISOString() }],
    });
    expect(fb).toEqual({ status: 200, json: { stored: 1, duplicates: 0, unknownCards: 0 } });

    const audit = await admin(b.url, `/admin/cards/${card.uuid}`);
    expect(audit.json.recommendation.drug.name).toBe('warfarin');
    expect(audit.json.recommendation.inputs.find((i: { key: string }) => i.key === 'weight').source.reference).toBe('Observation/pgx-1-wt');
    expect(audit.json.call).toMatchObject({ hook: 'order-select', patientId: 'pgx-1', orderedDrugs: ['warfarin'], outcome: 'cards', clientIss: 'https://ehr.replicas.test' });
    expect(audit.json.call.versions.methods[audit.json.recommendation.method.id]).toBe(audit.json.recommendation.method.version);
    expect(audit.json.feedback).toEqual([expect.objectContaining({ outcome: 'overridden', knownCard: true, overrideReason: { code: 'patient-preference', display: 'Patient preference' } })]);
    const report = await admin(a.url, '/admin/report');
    expect(report.json.total).toMatchObject({ cards: 1, withFeedback: 1, overridden: 1, overrideRate: 1 });

    // accepted through B, the next call (order-sign on B) shows the suggested order: A's report says applied
    const second = await post(a.url, '/cds-services/dosing-order-select', orderSelectBody('pgx-1'));
    const accepted = second.json.cards[0];
    await waitFor(async () => (await admin(b.url, `/admin/cards/${accepted.uuid}`)).status === 200, 5000, 'the second card on replica B');
    const acc = await post(b.url, '/cds-services/dosing-order-select/feedback', {
      feedback: [{ card: accepted.uuid, outcome: 'accepted', acceptedSuggestions: [{ id: accepted.suggestions[0].uuid }], outcomeTimestamp: new Date().toISOString() }],
    });
    expect(acc.status).toBe(200);
    const suggested = accepted.suggestions[0].actions[0].resource;
    const sign = { ...orderSelectBody('pgx-1', suggested), hook: 'order-sign', context: { userId: 'Practitioner/example', patientId: 'pgx-1', draftOrders: { resourceType: 'Bundle', type: 'collection', entry: [{ resource: suggested }] } } };
    expect((await post(b.url, '/cds-services/dosing-order-sign', sign)).status).toBe(200);
    await waitFor(async () => (await admin(a.url, `/admin/cards/${accepted.uuid}`)).json.intendedOrders[0]?.resolution?.outcome === 'applied', 5000, 'the suggestion resolved as applied');
    expect((await admin(a.url, `/admin/cards/${accepted.uuid}`)).json.intendedOrders[0].resolution.hookInstance).toBe(sign.hookInstance);
    expect((await admin(a.url, '/admin/report')).json.total).toMatchObject({ cards: 2, accepted: 1, applied: 1, notApplied: 0, notSeenAgain: 0, appliedRate: 1 });
    // never a token in the audit trail
    const everything = JSON.stringify(await schema.query(`SELECT * FROM $schema.hook_call`)) + JSON.stringify(await schema.query(`SELECT * FROM $schema.recommendation`));
    expect(everything).not.toMatch(/Bearer|eyJ/);
  } finally {
    await Promise.all(
      procs.map(
        (p) =>
          new Promise<void>((r) => {
            if (p.proc.exitCode !== null) return r();
            p.proc.once('exit', () => r());
            p.proc.kill('SIGTERM');
            setTimeout(() => p.proc.kill('SIGKILL'), 5000).unref();
          }),
      ),
    );
    await schema.drop();
    t.remove();
  }
}, 40000);
