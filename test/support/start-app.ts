// The one way tests build and start the real service in-process: config from loadConfig with the test defaults (a free
// port on 127.0.0.1, its URL as publicBaseUrl, silent logs, optionally a temp data directory), the store the caller
// chooses (given, or made from the config), the trusted EHR clients (real keys, real signed JWTs), createApp, listen,
// and a close that stops the server, the background work, the store (when asked) and the temp directory. The suites'
// own start-ups (service.ts, notify-service.ts, production-store-service.ts, two-tenants.ts, store/helpers.ts) say only
// what differs.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Express } from 'express';
import { createApp, type AppBackground, type AppDeps } from '../../src/app.js';
import { loadServiceCatalog } from '../../src/cds/services.js';
import { CardTemplates } from '../../src/cards/render.js';
import { loadConfig, type AppConfig } from '../../src/config.js';
import { DrugDictionary } from '../../src/domain/drugs.js';
import { createLogger, type Logger } from '../../src/observability/logger.js';
import type { Store } from '../../src/store/store.js';
import { makeTestClient, trustedClientsFor, type TestClient } from './jwt.js';

/** A port free on 127.0.0.1 now (the OS picks it: listen on 0), so that the config can name the service's URL. */
export async function freePort(): Promise<number> {
  const s: Server = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** The test EHR most suites sign as: ES384, issuer https://ehr.test.local. */
export const testEhr = (): Promise<TestClient> => makeTestClient({ alg: 'ES384', iss: 'https://ehr.test.local' });

/** What the store factory may use: the loaded config, the service's logger and the temp data directory (if any). */
export interface StartContext {
  config: AppConfig;
  logger: Logger;
  dir: string | undefined;
}

export interface StartAppOptions<S extends Store> {
  /** config values over the test defaults (port, publicBaseUrl, logLevel 'silent', dataDir when `tempDir` is given) */
  config?: Record<string, unknown>;
  /** make a temp data directory with this name prefix and set it as dataDir; `keep` leaves it on close */
  tempDir?: { prefix: string; keep?: boolean };
  /** the store: one the caller made, or made here from the config (then `closeStore` usually closes it) */
  store: S | ((c: StartContext) => S | Promise<S>);
  /** how close() closes the store (default: it is left open, the caller's) */
  closeStore?: (store: S) => Promise<void>;
  /** the trusted CDS clients */
  clients: TestClient[];
  /** the other createApp dependencies a suite sets */
  deps?: Pick<AppDeps, 'evaluators' | 'smartAppDir' | 'notificationWorker'>;
}

export interface Reply {
  status: number;
  text: string;
  /** the body parsed as JSON, undefined when it is not JSON */
  json: any;
  headers: Headers;
}

export interface StartedApp<S extends Store> {
  url: string;
  config: AppConfig;
  logger: Logger;
  store: S;
  app: Express;
  background: AppBackground;
  /** the temp data directory, when one was made */
  dir: string | undefined;
  /**
   * A request to the service: POST when there is a body (content-type application/json unless `headers` say), GET
   * otherwise; signed by `as` (a bearer JWT for this URL) when given; `headers` are sent last, over both.
   */
  request(pathname: string, o?: { body?: string; as?: TestClient; headers?: Record<string, string> }): Promise<Reply>;
  /** stop the server and the background work; then the store (`closeStore`, unless `store` is false) and the temp dir */
  close(o?: { store?: boolean }): Promise<void>;
}

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

export async function startApp<S extends Store>(o: StartAppOptions<S>): Promise<StartedApp<S>> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const dir = o.tempDir ? mkdtempSync(path.join(tmpdir(), o.tempDir.prefix)) : undefined;
  const config = loadConfig({}, { port, publicBaseUrl: url, ...(dir ? { dataDir: dir } : {}), logLevel: 'silent', ...o.config });
  const logger = createLogger(config.logLevel);
  const store = typeof o.store === 'function' ? await o.store({ config, logger, dir }) : o.store;
  const app = createApp({
    config,
    logger,
    catalog: loadServiceCatalog(),
    drugs: DrugDictionary.load(),
    templates: CardTemplates.load(),
    store,
    clients: trustedClientsFor(...o.clients),
    ...o.deps,
  });
  const background = app.locals['background'] as AppBackground;
  const server = app.listen(port, '127.0.0.1');
  await new Promise<void>((r) => server.once('listening', () => r()));
  return {
    url,
    config,
    logger,
    store,
    app,
    background,
    dir,
    async request(pathname, { body, as, headers = {} } = {}) {
      const res = await fetch(`${url}${pathname}`, {
        ...(body !== undefined ? { method: 'POST', body } : {}),
        headers: {
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...(as ? { authorization: await as.bearer(`${url}${pathname}`) } : {}),
          ...headers,
        },
      });
      const text = await res.text();
      return { status: res.status, text, json: parseJson(text), headers: res.headers };
    },
    async close({ store: closeStore = true } = {}) {
      await new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      });
      await background.stop();
      if (closeStore && o.closeStore) await o.closeStore(store);
      if (dir && !o.tempDir?.keep) rmSync(dir, { recursive: true, force: true });
    },
  };
}
