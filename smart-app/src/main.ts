// index.html: finish the SMART launch (code → token), then show the recommendation named in appContext, or the
// patient's recent recommendations when the app was opened from the chart.
import FHIR from 'fhirclient';
import type Client from 'fhirclient/lib/Client';
import type { Recommendation } from '../../src/domain/recommendation.js';
import { h, root, showError } from './dom.js';
import { renderList, renderRecommendation, type PatientBanner, type RecommendationSummary } from './view.js';

/** appContext from the card link: {"recommendationId": "<uuid>"} (a bare uuid is accepted too). */
export function recommendationIdFrom(appContext: unknown): string | undefined {
  if (typeof appContext !== 'string' || appContext === '') return undefined;
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
  if (uuid.test(appContext.trim())) return appContext.trim();
  try {
    const v = (JSON.parse(appContext) as { recommendationId?: unknown }).recommendationId;
    return typeof v === 'string' && uuid.test(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Calls the service's recommendation API with the SMART token, the FHIR server and the patient of this launch. */
function api(client: Client) {
  const token = client.getState('tokenResponse.access_token') as string | undefined;
  const headers = { authorization: `Bearer ${token ?? ''}`, 'x-fhir-server': client.state.serverUrl, 'x-patient-id': client.patient.id ?? '', accept: 'application/json' };
  const apiBase = new URL('../api/', location.href); // the app lives at <service>/smart/
  const get = async <T>(url: URL): Promise<T> => {
    for (let attempt = 0; ; attempt++) {
      const res = await fetch(url, { headers, credentials: 'omit' });
      // a recommendation is recorded just after its card is sent: give the audit write a moment
      if (res.status === 404 && attempt < 2) {
        await new Promise((r) => setTimeout(r, 700));
        continue;
      }
      const body = (await res.json().catch(() => ({}))) as T & { error?: string };
      if (!res.ok) throw new ApiError(res.status, body.error ?? `HTTP ${res.status}`);
      return body;
    }
  };
  return {
    one: (id: string) => get<{ recommendation: Recommendation; createdAt: string }>(new URL(`recommendations/${encodeURIComponent(id)}`, apiBase)),
    list: () => get<{ recommendations: RecommendationSummary[] }>(new URL('recommendations', apiBase)),
  };
}

async function patientBanner(client: Client): Promise<PatientBanner> {
  const p = (await client.patient.read()) as { name?: { text?: string; given?: string[]; family?: string }[]; gender?: string; birthDate?: string; id?: string };
  const n = p.name?.[0];
  const name = n?.text ?? ([...(n?.given ?? []), n?.family].filter(Boolean).join(' ') || `Patient ${p.id ?? ''}`);
  return { name, detail: [p.gender, p.birthDate ? `born ${p.birthDate}` : undefined].filter(Boolean).join(', ') };
}

function wire(view: HTMLElement[], onList?: () => void): void {
  root().replaceChildren(...view);
  document.getElementById('print')?.addEventListener('click', () => window.print());
  if (onList) document.getElementById('list')?.addEventListener('click', onList);
}

async function start(): Promise<void> {
  const client = await FHIR.oauth2.ready();
  const calls = api(client);
  const banner = await patientBanner(client);
  const showList = async () => {
    root().replaceChildren(h('p', { class: 'status' }, 'Loading recommendations…'));
    const { recommendations } = await calls.list();
    wire(renderList(recommendations, banner, (id) => void showOne(id).catch((e: unknown) => showError('The recommendation could not be shown', e))));
  };
  const showOne = async (id: string) => {
    root().replaceChildren(h('p', { class: 'status' }, 'Loading the recommendation…'));
    const { recommendation, createdAt } = await calls.one(id);
    wire(renderRecommendation(recommendation, createdAt, banner, () => void showList().catch((e: unknown) => showError('The list could not be loaded', e))), showList);
    document.title = `Dosing details — ${recommendation.drug.name}`;
  };
  const id = recommendationIdFrom(client.getState('tokenResponse.appContext'));
  if (id) await showOne(id);
  else await showList();
}

start().catch((e: unknown) => showError(e instanceof ApiError && e.status === 404 ? 'Recommendation not found' : 'The dosing details could not be shown', e));
