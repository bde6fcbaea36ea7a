// Child-process entry of the test FHIR server.
//
//   node --experimental-websocket --import tsx test/support/fhir-server/server.ts [options]
//
// Options (each also readable from the environment):
//   --port N                 FHIR_PORT              0 (default) = ephemeral
//   --host H                 FHIR_HOST              default 127.0.0.1
//   --token T[,T2...]        FHIR_BEARER_TOKEN      accepted bearer tokens (comma-separated); none = no auth check
//   --seed FILE              FHIR_SEED_FILE         JSON file: a Bundle or an array of resources, validated and loaded at start
//   --smart-authorize URL    FHIR_SMART_AUTHORIZE_URL  } advertise SMART OAuth endpoints in /metadata and
//   --smart-token URL        FHIR_SMART_TOKEN_URL      } /.well-known/smart-configuration
//   --default-count N        FHIR_DEFAULT_COUNT     page size when the client sends no _count (default 20)
//   --jwks-url URL           FHIR_JWKS_URL          also accept JWTs signed by this JWKS (patient claim = that Patient only)
//   --subscription-topics J  FHIR_SUBSCRIPTION_TOPICS  JSON array of Backport IG topics to offer (app.ts SubscriptionTopicOffer)
//   --deliver-notifications  FHIR_DELIVER_NOTIFICATIONS=true  notify matching rest-hook Subscriptions (delivery.ts)
//   --exit-on-stdin-close                          exit when stdin reaches EOF (a parent that dies closes the pipe)
//
// When ready it prints exactly one JSON line to stdout:
//   {"ready":true,"url":"http://127.0.0.1:PORT","port":PORT,"pid":PID,"seeded":N}
// On a start-up error it prints {"ready":false,"error":"..."} to stdout, details to stderr, and exits with code 1.
// SIGTERM / SIGINT close the server and exit 0.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createFhirTestServer, type FhirTestServer, type SubscriptionTopicOffer } from './app.js';

function fail(message: string, detail?: unknown): never {
  process.stdout.write(JSON.stringify({ ready: false, error: message }) + '\n');
  process.stderr.write(`fhir-server: ${message}\n${detail instanceof Error && detail.stack ? detail.stack + '\n' : ''}`);
  process.exit(1);
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        token: { type: 'string' },
        seed: { type: 'string' },
        'smart-authorize': { type: 'string' },
        'smart-token': { type: 'string' },
        'default-count': { type: 'string' },
        'jwks-url': { type: 'string' },
        'subscription-topics': { type: 'string' },
        'deliver-notifications': { type: 'boolean' },
        'exit-on-stdin-close': { type: 'boolean' },
      },
      strict: true,
    }));
  } catch (err) {
    fail((err as Error).message);
  }
  const env = process.env;
  const portText = values.port ?? env['FHIR_PORT'] ?? '0';
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`invalid port: ${portText}`);
  const countText = values['default-count'] ?? env['FHIR_DEFAULT_COUNT'];
  const defaultCount = countText === undefined ? undefined : Number(countText);
  if (defaultCount !== undefined && (!Number.isInteger(defaultCount) || defaultCount < 1)) fail(`invalid default count: ${countText}`);
  const tokens = (values.token ?? env['FHIR_BEARER_TOKEN'] ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  const authorizeUrl = values['smart-authorize'] ?? env['FHIR_SMART_AUTHORIZE_URL'];
  const tokenUrl = values['smart-token'] ?? env['FHIR_SMART_TOKEN_URL'];
  if (!!authorizeUrl !== !!tokenUrl) fail('SMART needs both the authorize URL and the token URL');
  const jwksUrl = values['jwks-url'] ?? env['FHIR_JWKS_URL'];
  const topicsText = values['subscription-topics'] ?? env['FHIR_SUBSCRIPTION_TOPICS'];
  let subscriptionTopics: SubscriptionTopicOffer[] | undefined;
  if (topicsText) {
    try {
      subscriptionTopics = JSON.parse(topicsText) as SubscriptionTopicOffer[];
    } catch (err) {
      fail(`--subscription-topics is not valid JSON: ${(err as Error).message}`);
    }
    if (!Array.isArray(subscriptionTopics) || !subscriptionTopics.every((t) => typeof t?.url === 'string' && typeof t?.resource === 'string')) {
      fail('--subscription-topics must be a JSON array of {"url": …, "resource": …}');
    }
  }

  const seedFile = values.seed ?? env['FHIR_SEED_FILE'];
  let seed: unknown;
  if (seedFile) {
    let text: string;
    try {
      text = readFileSync(seedFile, 'utf8');
    } catch (err) {
      fail(`cannot read seed file ${seedFile}: ${(err as Error).message}`);
    }
    try {
      seed = JSON.parse(text);
    } catch (err) {
      fail(`seed file ${seedFile} is not valid JSON: ${(err as Error).message}`);
    }
  }

  let app: FhirTestServer;
  try {
    app = await createFhirTestServer({
      port,
      host: values.host ?? env['FHIR_HOST'] ?? '127.0.0.1',
      tokens,
      ...(defaultCount !== undefined ? { defaultCount } : {}),
      ...(authorizeUrl && tokenUrl ? { smart: { authorizeUrl, tokenUrl } } : {}),
      ...(jwksUrl ? { jwksUrl } : {}),
      ...(subscriptionTopics ? { subscriptionTopics } : {}),
      ...(values['deliver-notifications'] || env['FHIR_DELIVER_NOTIFICATIONS'] === 'true' ? { deliverNotifications: true } : {}),
    });
  } catch (err) {
    fail(`cannot start: ${(err as Error).message}`, err);
  }
  let seeded = 0;
  if (seed !== undefined) {
    try {
      seeded = await app.seed(seed);
    } catch (err) {
      await app.close().catch(() => undefined);
      fail(`invalid seed data in ${seedFile}: ${(err as Error).message}`, err);
    }
  }

  let closing = false;
  const shutdown = (): void => {
    if (closing) return;
    closing = true;
    app.close().finally(() => process.exit(0));
    setTimeout(() => process.exit(0), 1000).unref();
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  if (values['exit-on-stdin-close']) {
    process.stdin.on('end', shutdown);
    process.stdin.on('error', shutdown);
    process.stdin.resume();
  }

  process.stdout.write(JSON.stringify({ ready: true, url: app.url, port: app.port, pid: process.pid, seeded }) + '\n');
}

main().catch((err: unknown) => fail((err as Error)?.message ?? String(err), err));
