// The shared set-up of the hostile-input suites (test/robustness/hostile-*.test.ts, issue #7): the EHR's FHIR server (a
// fast in-process stub over the synthetic cohort), a host the service must never contact, the real service (real JWT
// auth, SQLite) with a 1 MB body limit, and on request one with a 32 MB limit and one with the trained warfarin dose
// model; after each test the service must still answer a valid request with the normal dose card and the other host
// must have heard nothing. The invariant: every response is a 4xx JSON {"error"} or a conformant 200 whose proposed
// warfarin doses are within 0.5–15 mg/day, never a 5xx, never slower than the request deadline + margin.
//
// Reproduce a failure: FC_SEED=<seed printed in the failure> FC_RUNS=<n> (FC_SHRINK=1 to shrink the counterexample).
import type fc from 'fast-check';
import { loadWarfarinModel } from '../../src/model/warfarinModel.js';
import {
  invariantViolations,
  orderSelectBody,
  proposedDoses,
  startRecordingServer,
  startStubFhirServer,
  writeJson,
  type HookResponse,
  type RecordingServer,
  type StubFhirServer,
} from './robustness.js';
import { startTestService, type TestService } from './service.js';


export const SEED = Number(process.env['FC_SEED'] ?? 20261125);
export const RUNS = Number(process.env['FC_RUNS'] ?? 0) || undefined; // default: per-property counts below
export const SHRINK = process.env['FC_SHRINK'] === '1';
export const FHIR_DEADLINE_MS = 800;
export const REQUEST_DEADLINE_MS = 1500;
/** slack for a loaded 2-core CI box: JWT signing, request upload and parsing of ~1 MB bodies */
export const MARGIN_MS = 1500;
export const MAX_MS = REQUEST_DEADLINE_MS + MARGIN_MS;
export const ENDPOINT = '/cds-services/dosing-order-select';


export async function callHook(s: TestService, body: string, path = ENDPOINT): Promise<HookResponse> {
  const t0 = performance.now();
  const r = await s.post(path, body);
  return { ...r, ms: performance.now() - t0 };
}

export function fcParams<T>(numRuns: number): fc.Parameters<T> {
  return { seed: SEED, numRuns: RUNS ?? numRuns, endOnFailure: !SHRINK };
}

/**
 * KNOWN BUG (reported, not fixed here: src/cards/render.ts is being reworked concurrently): the update action echoes
 * the draft order as sent, so null / "" / [] / {} values inside the draft reach the response, which the CDS Hooks JSON
 * rule forbids. The dedicated test in hostile-bodies.test.ts documents it; the properties tolerate exactly that (and only inside
 * `actions[].resource`) so that they keep hunting for other failures. Set to false once render.ts prunes empty values.
 */
const TOLERATE_ECHOED_EMPTY_VALUES = false;

/** Throw with the body (truncated) when the response breaks the invariant, so fast-check reports the input. */
export function assertInvariant(r: HookResponse, body: string): void {
  const v = invariantViolations(r, MAX_MS, { tolerateEmptyValuesEchoedFromDraft: TOLERATE_ECHOED_EMPTY_VALUES });
  if (v.length > 0) throw new Error(`${v.join('\n')}\n(seed ${SEED}) body: ${body.length > 2000 ? `${body.slice(0, 2000)}… (${body.length} chars)` : body}`);
}

export interface HostileInputEnv {
  /** the EHR's FHIR server (fast in-process stub over the synthetic cohort) */
  readonly stub: StubFhirServer;
  /** a host the service must never contact */
  readonly otherHost: RecordingServer;
  /** default body limit (1 MB) */
  readonly svc: TestService;
  /** 32 MB body limit, for the 10,000-item cases (when `big`) */
  readonly bigSvc: TestService;
  /** with the trained warfarin dose model (ONNX) loaded, when `model` and it loads */
  readonly modelSvc: TestService | undefined;
}

/** Jest hooks of a hostile-input file: the servers above, started before its tests and stopped after; the after-each check. */
export function useHostileInputServices(o: { big?: boolean; model?: boolean } = {}): HostileInputEnv {
  let stub: StubFhirServer | undefined;
  let otherHost: RecordingServer | undefined;
  let svc: TestService | undefined;
  let bigSvc: TestService | undefined;
  let modelSvc: TestService | undefined;
  beforeAll(async () => {
    [stub, otherHost] = await Promise.all([
      startStubFhirServer(),
      startRecordingServer((_req, res) => {
        // if ever followed, this page would add amiodarone: a visible change, not only a log line
        res.writeHead(200, { 'content-type': 'application/fhir+json' }).end(JSON.stringify({ resourceType: 'Bundle', type: 'searchset', entry: [] }));
      }),
    ]);
    const overrides = { 'fhir.deadlineMs': FHIR_DEADLINE_MS, requestDeadlineMs: REQUEST_DEADLINE_MS };
    [svc, bigSvc] = await Promise.all([startTestService(overrides), o.big ? startTestService({ ...overrides, bodyLimit: '32mb' }) : undefined]);
    svc.allowFhirServer(stub.url); // the EHR's own server, named for it; otherHost never is
    bigSvc?.allowFhirServer(stub.url);
    if (o.model) {
      try {
        modelSvc = await startTestService(overrides, [], { warfarinModel: await loadWarfarinModel() });
        modelSvc.allowFhirServer(stub.url);
      } catch (e) {
        console.warn(`hostile-input: warfarin model not loaded (${(e as Error).message}); model path not exercised`);
      }
    }
  }, 30000);
  afterAll(async () => {
    await Promise.all([svc?.close(), bigSvc?.close(), modelSvc?.close(), stub?.close(), otherHost?.close()]);
  });
  afterEach(async () => {
    // never a crash: the service still answers a valid request with the normal dose card
    const r = await callHook(svc!, writeJson(orderSelectBody(stub!.url)));
    expect(r.status).toBe(200);
    expect(proposedDoses(r.json)).toHaveLength(1);
    expect(otherHost!.requests).toEqual([]);
  });
  return {
    get stub() {
      return stub!;
    },
    get otherHost() {
      return otherHost!;
    },
    get svc() {
      return svc!;
    },
    get bigSvc() {
      if (!bigSvc) throw new Error('useHostileInputServices({ big: true }) starts the 32 MB service');
      return bigSvc;
    },
    get modelSvc() {
      return modelSvc;
    },
  };
}
