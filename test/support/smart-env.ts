// A SMART-enabled "EHR" for tests: a real authorization server (oauth2-mock-server), the real FHIR test server that
// accepts its tokens (and a static token for the CDS service's own queries), and the real service configured to trust
// that FHIR server for the SMART app's recommendation API.
import { randomUUID } from 'node:crypto';
import type { MedicationRequest } from 'fhir/r4';
import type { EvaluatorDependencies } from '../../src/dosing/registry.js';
import { syntheticResources } from '../fixtures/synthetic-patients.js';
import { startFhirServer, type RunningFhirServer } from './fhir-server/index.js';
import { startTestService, type TestService } from './service.js';
import { startSmartAuthServer, type SmartAuthServer } from './smart-auth.js';

export const EHR_FHIR_TOKEN = 'ehr-cds-access-token';

export interface SmartEnv {
  auth: SmartAuthServer;
  fhir: RunningFhirServer;
  svc: TestService;
  /** order-select hook for a draft of a synthetic patient; without prefetch the service queries the FHIR server */
  orderSelect(patientId: string, draft: MedicationRequest, prefetch?: Record<string, unknown>): Promise<{ status: number; json: any }>;
  stop(): Promise<void>;
}

export async function startSmartEnv(o: { deps?: EvaluatorDependencies; smartAppDir?: string; overrides?: Record<string, unknown> } = {}): Promise<SmartEnv> {
  const auth = await startSmartAuthServer();
  let fhir: RunningFhirServer | undefined;
  try {
    fhir = await startFhirServer({ token: EHR_FHIR_TOKEN, seed: syntheticResources(), smart: { authorizeUrl: auth.authorizeUrl, tokenUrl: auth.tokenUrl }, jwksUrl: auth.jwksUrl });
    const svc = await startTestService(
      { 'smart.allowedFhirServers': [fhir.url], 'smart.authorizationServers': [auth.url], ...(o.overrides ?? {}) },
      [],
      o.deps ?? {},
      o.smartAppDir ? { smartAppDir: o.smartAppDir } : {},
    );
    svc.allowFhirServer(fhir.url);
    const f = fhir;
    return {
      auth,
      fhir: f,
      svc,
      orderSelect: (patientId, draft, prefetch) =>
        svc.hook('dosing-order-select', {
          hook: 'order-select',
          hookInstance: randomUUID(),
          fhirServer: f.url,
          fhirAuthorization: { access_token: EHR_FHIR_TOKEN, token_type: 'Bearer', expires_in: 300, scope: 'patient/*.read', subject: 'pgx-dosing-cds', patient: patientId },
          context: { userId: 'Practitioner/example', patientId, selections: [`MedicationRequest/${draft.id}`], draftOrders: { resourceType: 'Bundle', type: 'collection', entry: [{ resource: draft }] } },
          ...(prefetch ? { prefetch } : {}),
        }),
      async stop() {
        await Promise.all([svc.close(), f.stop(), auth.stop()]);
      },
    };
  } catch (e) {
    await Promise.all([fhir?.stop(), auth.stop()]);
    throw e;
  }
}
