// Newcomer's demo: a local FHIR server with synthetic patients, the service beside it, sample hooks, cards printed.
//   npm run demo            fire the sample hooks and exit
//   npm run demo -- --keep  keep both servers running (prints the URLs and a ready-made curl command)
//   npm run demo -- --smart also start a SMART authorization server, build the "Dosing details" app and print
//                           EHR-launch URLs (iss + launch) to open in a browser; keeps running until Ctrl+C
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { MedicationRequest } from 'fhir/r4';
import { startServer } from '../src/server.js';
import { createLogger } from '../src/observability/logger.js';
import { draftClopidogrel, draftWarfarin, syntheticResources } from '../test/fixtures/synthetic-patients.js';
import { startFhirServer } from '../test/support/fhir-server/index.js';
import { makeTestClient } from '../test/support/jwt.js';
import { freePort } from '../test/support/service.js';
import { startSmartAuthServer, type SmartAuthServer } from '../test/support/smart-auth.js';

const smart = process.argv.includes('--smart');
const keep = smart || process.argv.includes('--keep');
const FHIR_TOKEN = 'demo-access-token';

interface PrintableCard {
  summary: string;
  indicator: string;
  detail?: string;
  source: { label: string };
  links?: { label: string; url: string; type: string; appContext?: string }[];
  suggestions?: { label: string; actions?: { type: string; description: string }[] }[];
}

function printCards(title: string, status: number, body: { cards?: PrintableCard[]; error?: string }, ms: number): void {
  const line = '─'.repeat(100);
  console.log(`\n${line}\n${title}  →  HTTP ${status} in ${ms.toFixed(0)} ms`);
  if (!body.cards) {
    console.log(`  ${body.error ?? JSON.stringify(body)}`);
    return;
  }
  if (body.cards.length === 0) console.log('  (no card: nothing actionable)');
  for (const c of body.cards) {
    console.log(`\n  [${c.indicator.toUpperCase()}] ${c.summary}`);
    console.log(`  source: ${c.source.label}`);
    for (const l of (c.detail ?? '').split('\n')) console.log(`    ${l}`);
    for (const s of c.suggestions ?? []) {
      console.log(`  ▶ suggestion: ${s.label}`);
      for (const a of s.actions ?? []) console.log(`      ${a.type}: ${a.description}`);
    }
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'pgx-demo-'));
  console.log('Starting a FHIR R4 server (Medplum router, in memory) with synthetic patients …');
  let auth: SmartAuthServer | undefined;
  if (smart) {
    console.log('Building the SMART app (vite) and starting an OAuth2 authorization server (oauth2-mock-server) …');
    const build = spawnSync(process.execPath, ['node_modules/vite/bin/vite.js', 'build', '--config', 'smart-app/vite.config.ts', '--logLevel', 'error'], { stdio: 'inherit' });
    if (build.status !== 0) throw new Error('the SMART app did not build');
    auth = await startSmartAuthServer();
  }
  const fhir = await startFhirServer({
    token: FHIR_TOKEN,
    seed: syntheticResources(),
    ...(auth ? { smart: { authorizeUrl: auth.authorizeUrl, tokenUrl: auth.tokenUrl }, jwksUrl: auth.jwksUrl } : {}),
  });

  // A demo "EHR" with its own ES384 key, trusted through a clients file written for this run.
  const ehr = await makeTestClient({ alg: 'ES384', iss: 'https://demo-ehr.local' });
  const clientsFile = path.join(dir, 'cds-clients.json');
  writeFileSync(clientsFile, JSON.stringify({ clients: [{ iss: ehr.iss, name: 'demo EHR', jwks: ehr.jwks, fhirServers: [fhir.url] }] }, null, 2));

  const port = Number(process.env['PORT'] ?? (await freePort()));
  const base = `http://127.0.0.1:${port}`;
  const svc = await startServer(
    {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      PUBLIC_BASE_URL: base,
      CDS_CLIENTS_FILE: clientsFile,
      FHIR_ALLOW_INSECURE_LOOPBACK: 'true', // the demo FHIR server is http on 127.0.0.1 (development only)
      DATA_DIR: dir,
      LOG_LEVEL: process.env['LOG_LEVEL'] ?? 'warn',
      ...(auth ? { SMART_ALLOWED_FHIR_SERVERS: fhir.url, SMART_AUTH_SERVERS: auth.url } : {}),
    },
    createLogger(process.env['LOG_LEVEL'] ?? 'warn'),
  );
  console.log(`FHIR server: ${fhir.url}   CDS service: ${base}/cds-services`);

  const call = async (serviceId: string, hook: string, patientId: string, draft: MedicationRequest) => {
    const body = {
      hook,
      hookInstance: randomUUID(),
      fhirServer: fhir.url,
      fhirAuthorization: { access_token: FHIR_TOKEN, token_type: 'Bearer', expires_in: 300, scope: 'patient/*.read', subject: 'pgx-dosing-cds', patient: patientId },
      context: {
        userId: 'Practitioner/demo',
        patientId,
        ...(hook === 'order-select' ? { selections: [`MedicationRequest/${draft.id}`] } : {}),
        draftOrders: { resourceType: 'Bundle', type: 'collection', entry: [{ resource: draft }] },
      },
    };
    const url = `${base}/cds-services/${serviceId}`;
    const t0 = performance.now();
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: await ehr.bearer(url) }, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as { cards?: PrintableCard[] }, ms: performance.now() - t0 };
  };

  const scenarios: [string, string, string, string, MedicationRequest][] = [
    ['pgx-1: genotyped (CYP2C9 *1/*3, VKORC1 -1639 G/A), on amiodarone, weight in lb; draft without dose', 'dosing-order-select', 'order-select', 'pgx-1', draftWarfarin('demo-1', 'pgx-1')],
    ['clin-1: no genotype on file, height in inches; draft says 5 mg daily', 'dosing-order-sign', 'order-sign', 'clin-1', draftWarfarin('demo-2', 'clin-1', 5)],
    ['nohgt-1: no height recorded', 'dosing-order-select', 'order-select', 'nohgt-1', draftWarfarin('demo-3', 'nohgt-1', 5)],
    ['cyp-1: clopidogrel for a CYP2C19 *2/*2 patient after an NSTEMI (CPIC)', 'dosing-order-select', 'order-select', 'cyp-1', draftClopidogrel('demo-4', 'cyp-1')],
  ];
  const launches: string[] = [];
  for (const [title, serviceId, hook, patientId, draft] of scenarios) {
    const r = await call(serviceId, hook, patientId, draft);
    printCards(title, r.status, r.body, r.ms);
    // what the EHR does with a card's SMART link: a launch id bound to the patient and the card's appContext
    const link = (r.body.cards ?? []).flatMap((c) => c.links ?? []).find((l) => l.type === 'smart');
    if (auth && link) {
      const u = new URL(link.url);
      u.searchParams.set('iss', fhir.url);
      u.searchParams.set('launch', auth.registerLaunch({ patient: patientId, ...(link.appContext ? { appContext: link.appContext } : {}) }));
      launches.push(`  ${patientId} (${title.split(':')[1]?.trim().slice(0, 60) ?? ''}):\n    ${u.href}`);
    }
  }
  console.log(`\nThe service fetched everything itself from ${fhir.url} with the EHR's token (no prefetch was sent).`);

  if (auth) {
    const chart = new URL(`${base}/smart/launch.html`);
    chart.searchParams.set('iss', fhir.url);
    chart.searchParams.set('launch', auth.registerLaunch({ patient: 'pgx-1' }));
    console.log(`\n${'─'.repeat(100)}\nSMART "Dosing details" app — open these EHR-launch URLs in a browser (as the EHR would from each card):`);
    for (const l of launches) console.log(l);
    console.log(`  from the chart of pgx-1 (no card, lists the patient's recommendations):\n    ${chart.href}`);
    console.log(`Authorization server: ${auth.url} (launch → patient + appContext in the token response); FHIR server accepts its tokens.`);
  }
  if (keep) {
    console.log(`\nBoth servers keep running. Discovery (needs a JWT from the demo EHR key): ${base}/cds-services`);
    console.log(`FHIR data: curl -H 'Authorization: Bearer ${FHIR_TOKEN}' ${fhir.url}/Patient`);
    console.log('Press Ctrl+C to stop.');
    await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
  }
  await svc.close();
  await fhir.stop();
  await auth?.stop();
}

main().catch((e: unknown) => {
  console.error(`demo failed: ${(e as Error)?.message ?? String(e)}`);
  process.exit(1);
});
