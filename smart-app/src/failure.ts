// What went wrong, in plain words, and the way back: every failure of the launch, the FHIR read or the API ends on
// this screen (never on "Loading…"). The technical cause is a small details line, never the message.
import { ApiError } from './errors.js';
import { h, root } from './dom.js';

export type FailureKind = 'session' | 'no-access' | 'server-not-allowed' | 'not-found' | 'fhir-unavailable' | 'service-error' | 'network' | 'timeout' | 'not-launched' | 'patient-unavailable' | 'unexpected';

export interface Failure {
  kind: FailureKind;
  /** e.g. "HTTP 401 · token-rejected · the FHIR server did not accept the access token" */
  details: string;
}

/** The wording of each failure: what happened, what to do, and which ways back make sense. */
export const FAILURE_TEXT: Record<FailureKind, { title: string; advice: string; retry: boolean; list: boolean }> = {
  session: { title: 'Your session has expired — open the app again from the patient’s chart', advice: 'The EHR’s sign-in for this app has ended. Opening the app again from the chart (or from the dosing card) starts a new session.', retry: false, list: false },
  'no-access': { title: 'This session does not give access to this patient', advice: 'Open the app again from this patient’s chart. If this happens again, ask your EHR administrator about the app’s access.', retry: false, list: false },
  'server-not-allowed': { title: 'This EHR is not connected to the dosing service', advice: 'The dosing service does not accept this EHR’s FHIR server. Ask your EHR administrator.', retry: false, list: false },
  'not-found': { title: 'This recommendation was not found for this patient', advice: 'It may belong to another patient or another EHR, or it is no longer kept. The patient’s other recommendations are in the list.', retry: false, list: true },
  'fhir-unavailable': { title: 'The EHR could not confirm your access just now', advice: 'The EHR’s FHIR server did not answer the dosing service. Try again in a moment.', retry: true, list: true },
  'service-error': { title: 'The dosing service had a problem', advice: 'Try again in a moment. If it keeps happening, tell your EHR support team.', retry: true, list: true },
  network: { title: 'The dosing service could not be reached', advice: 'Check the network connection, then try again.', retry: true, list: true },
  timeout: { title: 'The dosing service did not answer in time', advice: 'Nothing came back within 20 seconds. Try again in a moment.', retry: true, list: true },
  'not-launched': { title: 'The app was not opened from a patient’s chart', advice: 'Open it from the patient’s chart or from a dosing card in the EHR: it needs the EHR’s sign-in and the patient.', retry: false, list: false },
  'patient-unavailable': { title: 'The patient’s record could not be read from the EHR', advice: 'The EHR’s FHIR server did not answer. Try again in a moment.', retry: true, list: false },
  unexpected: { title: 'The dosing details could not be shown', advice: 'Try again. If it keeps happening, open the app again from the patient’s chart.', retry: true, list: true },
};

/** Every reason code the service's API answers with (src/smart/router.ts FAILURES, and not-found) → what to show. */
export const REASON_KIND: Record<string, FailureKind> = {
  'no-token': 'session',
  'token-rejected': 'session',
  'token-inactive': 'session', // introspection: expired or revoked
  'patient-denied': 'no-access',
  'patient-mismatch': 'no-access', // introspection: the token's patient is another one
  'introspection-unavailable': 'fhir-unavailable', // the EHR's authorization server did not answer: try again
  'server-not-allowed': 'server-not-allowed',
  'no-context': 'not-launched',
  'not-found': 'not-found',
  'fhir-unavailable': 'fhir-unavailable',
  network: 'network',
  timeout: 'timeout',
};

function statusOf(e: unknown): number | undefined {
  const s = (e as { status?: unknown; statusCode?: unknown } | null)?.status ?? (e as { statusCode?: unknown } | null)?.statusCode;
  return typeof s === 'number' ? s : undefined;
}

/**
 * An error of the API (ApiError), of fhirclient (HttpError with a status: the Patient read with the same token) or
 * of the launch itself → the failure to show. `during` says what was being done ("api" or "patient").
 */
export function classify(e: unknown, during: 'api' | 'patient' | 'launch'): Failure {
  const msg = e instanceof Error ? e.message : String(e);
  if (e instanceof ApiError) {
    const kind = REASON_KIND[e.reason] ?? (e.status === 401 ? 'session' : e.status === 403 ? 'no-access' : e.status === 404 ? 'not-found' : e.status >= 500 ? 'service-error' : 'unexpected');
    const head = e.status > 0 ? `HTTP ${e.status} · ${e.reason}` : e.reason;
    return { kind, details: `${head} · ${msg}` };
  }
  const status = statusOf(e);
  // fhirclient refuses to use a token about to expire that it cannot refresh (no offline_access/online_access scope)
  if (/unable to refresh|expired/i.test(msg)) return { kind: 'session', details: msg };
  if (during === 'launch') return { kind: /state|launch|iss/i.test(msg) ? 'not-launched' : 'unexpected', details: msg };
  if (status === 401) return { kind: 'session', details: `FHIR HTTP 401 · ${msg}` };
  if (status === 403) return { kind: 'no-access', details: `FHIR HTTP 403 · ${msg}` };
  if (status !== undefined && (status >= 500 || status === 429)) return { kind: during === 'patient' ? 'patient-unavailable' : 'service-error', details: `FHIR HTTP ${status} · ${msg}` };
  if (e instanceof TypeError && /fetch|network/i.test(msg)) return { kind: during === 'patient' ? 'patient-unavailable' : 'network', details: msg };
  return { kind: 'unexpected', details: status !== undefined ? `HTTP ${status} · ${msg}` : msg };
}

export interface WayBack {
  /** repeat what failed */
  retry?: () => void;
  /** the patient's recommendations */
  list?: () => void;
}

/** The failure screen: heading, advice, the ways back that apply, and the details line. */
export function renderFailure(f: Failure, way: WayBack = {}, banner?: HTMLElement): void {
  const t = FAILURE_TEXT[f.kind];
  const buttons: HTMLElement[] = [];
  if (t.retry && way.retry) {
    const b = h('button', { type: 'button', id: 'retry' }, 'Try again');
    b.addEventListener('click', way.retry);
    buttons.push(b);
  }
  if (t.list && way.list) {
    const b = h('button', { type: 'button', id: 'back-to-list' }, 'Back to the list');
    b.addEventListener('click', way.list);
    buttons.push(b);
  }
  root().replaceChildren(
    ...(banner ? [banner] : []),
    h(
      'section',
      { class: 'error', role: 'alert', 'data-testid': 'failure', 'data-kind': f.kind },
      h('h1', { tabindex: '-1' }, t.title),
      h('p', { 'data-testid': 'failure-advice' }, t.advice),
      buttons.length ? h('p', { class: 'ways-back' }, ...buttons) : undefined,
      h('p', { class: 'details', 'data-testid': 'failure-details' }, `Details: ${f.details}`),
    ),
  );
  document.title = 'Dosing details — not available';
  (buttons[0] ?? root().querySelector('h1'))?.focus();
}
