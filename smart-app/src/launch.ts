// launch.html: the EHR opens this with ?iss=<FHIR base>&launch=<id>; authorize with PKCE, come back to index.html.
import FHIR from 'fhirclient';
import { classify, renderFailure } from './failure.js';

interface AppSettings {
  clientId: string;
  scope: string;
}

async function launch(): Promise<void> {
  const res = await fetch(new URL('config.json', location.href), { headers: { accept: 'application/json' } });
  if (!res.ok) throw new Error(`the app's configuration could not be loaded (HTTP ${res.status})`);
  const settings = (await res.json()) as AppSettings;
  const params = new URLSearchParams(location.search);
  if (!params.get('iss') || !params.get('launch')) throw new Error('Open this app from the EHR: the launch needs the iss and launch parameters.');
  await FHIR.oauth2.authorize({
    clientId: settings.clientId,
    scope: settings.scope,
    redirectUri: new URL('index.html', location.href).href,
    pkceMode: 'required',
  });
}

launch().catch((e: unknown) => renderFailure(classify(e, 'launch')));
