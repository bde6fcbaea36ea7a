// Registers the service as a FHIR subscriber on the EHR's FHIR server: one Subscription (rest-hook) per Observation
// filter the evaluators gather by (config/services.json prefetch, src/notify/subscriptions.ts), posting to
// PUBLIC_BASE_URL/notifications with NOTIFY_TOKEN in channel.header. Topic-based (Subscriptions R5 Backport IG) where
// the server advertises a topic on Observation create/update, R4 criteria-based otherwise (--mode auto, the default);
// the output says which. Uses the service's own backend credentials (BACKEND_* configuration). Idempotent: existing
// Subscriptions with the same endpoint and criteria (topic mode: topic and filter) are kept.
//
//   npm run subscriptions:create -- [--mode auto|topic|criteria] [--topic CANONICAL] [--heartbeat SECONDS]
//     [--payload id-only|full-resource|empty] [--endpoint https://cds.example.org/notifications]
import { loadServiceCatalog } from '../src/cds/services.js';
import { ConfigError, loadConfig } from '../src/config.js';
import { isFhirServerAllowed } from '../src/fhir/egress.js';
import { backendCredentialsFrom } from '../src/notify/backendAuth.js';
import { createSubscriptions, type SubscriptionMode } from '../src/notify/subscriptions.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  if (!config.backend.fhirUrl) throw new ConfigError('BACKEND_FHIR_URL is not set');
  if (!config.notify.token) throw new ConfigError('NOTIFY_TOKEN is not set: the Subscription must carry it');
  if (!isFhirServerAllowed(config.backend.fhirUrl, { allowedServers: config.fhir.allowedServers, allowInsecureLoopback: config.fhir.allowInsecureLoopback })) {
    throw new ConfigError('BACKEND_FHIR_URL is not under FHIR_ALLOWED_SERVERS');
  }
  const payload = (arg('payload') ?? 'id-only') as 'id-only' | 'full-resource' | 'empty';
  if (!['id-only', 'full-resource', 'empty'].includes(payload)) throw new ConfigError('--payload must be id-only, full-resource or empty');
  const mode = (arg('mode') ?? 'auto') as SubscriptionMode | 'auto';
  if (!['auto', 'topic', 'criteria'].includes(mode)) throw new ConfigError('--mode must be auto, topic or criteria');
  const heartbeatText = arg('heartbeat') ?? '3600';
  if (!/^\d{1,7}$/.test(heartbeatText)) throw new ConfigError('--heartbeat must be a whole number of seconds (0 = no heartbeat)');
  const topic = arg('topic');
  const endpoint = arg('endpoint') ?? `${config.publicBaseUrl}/notifications`;
  const credentials = await backendCredentialsFrom(config.backend);
  const out = await createSubscriptions({ fhirUrl: config.backend.fhirUrl, token: await credentials.token(), endpoint, notifyToken: config.notify.token, catalog: loadServiceCatalog(), payload, mode, heartbeatSeconds: Number(heartbeatText), ...(topic !== undefined ? { topic } : {}) });
  process.stdout.write(`${JSON.stringify({ endpoint, ...out })}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`create-subscriptions: ${(e as Error).message}\n`);
  process.exit(1);
});
