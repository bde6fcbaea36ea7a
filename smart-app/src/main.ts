// index.html: finish the SMART launch (code → token), then show the recommendation named in appContext, or the
// patient's recent recommendations when the app was opened from the chart.
// Every step ends on a screen: the details, the list, or a failure screen in plain words with the way back (never
// "Loading…" for ever: each API call has a deadline, and every error path leads to renderFailure).
import FHIR from 'fhirclient';
import type Client from 'fhirclient/lib/Client';
import { api } from './api.js';
import { h, root } from './dom.js';
import { classify, renderFailure, type WayBack } from './failure.js';
import { renderList } from './list.js';
import { bannerOf, renderBanner, type PatientBanner } from './patient.js';
import { renderRecommendation } from './view.js';

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

function wire(view: HTMLElement[], onList?: () => void): void {
  root().replaceChildren(...view);
  document.getElementById('print')?.addEventListener('click', () => window.print());
  if (onList) document.getElementById('list')?.addEventListener('click', onList);
}

function status(text: string): void {
  root().replaceChildren(h('p', { class: 'status', role: 'status', 'data-testid': 'loading' }, text));
}

async function start(): Promise<void> {
  let client: Client;
  try {
    client = await FHIR.oauth2.ready();
  } catch (e) {
    renderFailure(classify(e, 'launch'));
    return;
  }
  const calls = api(client);
  let banner: PatientBanner | undefined;
  const patient = async (): Promise<PatientBanner> => (banner ??= bannerOf(await client.patient.read()));

  /** Runs a screen; any failure becomes the failure screen, whose "Try again" runs the same screen again. */
  const guarded = (screen: () => Promise<void>, way: Omit<WayBack, 'retry'> = {}) => {
    const run = (): void =>
      void screen().catch((e: unknown) => {
        console.warn('dosing details: step failed', e instanceof Error ? e.name : typeof e);
        renderFailure(classify(e, 'patient'), { ...way, retry: run }, banner ? renderBanner(banner) : undefined);
      });
    return run;
  };
  const showList = guarded(async () => {
    status('Loading recommendations…');
    const b = await patient();
    const { recommendations } = await calls.list();
    wire(renderList(recommendations, b, (id) => showOne(id)()));
    document.title = 'Dosing details — recommendations';
  });
  const showOne = (id: string) =>
    guarded(
      async () => {
        status('Loading the recommendation…');
        const b = await patient();
        const { recommendation, createdAt } = await calls.one(id);
        wire(renderRecommendation(recommendation, createdAt, b, showList), showList);
        document.title = `Dosing details — ${recommendation.drug.name}`;
      },
      { list: showList },
    );
  const id = recommendationIdFrom(client.getState('tokenResponse.appContext'));
  if (id) showOne(id)();
  else showList();
}

// nothing may leave the page on "Loading…": an error no step caught still ends on the failure screen
window.addEventListener('unhandledrejection', (ev) => renderFailure(classify(ev.reason, 'patient')));
void start().catch((e: unknown) => renderFailure(classify(e, 'launch')));
