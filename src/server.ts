// Process entry: configuration → dependencies → listen → graceful shutdown on SIGTERM/SIGINT.
import path from 'node:path';
import { loadConfig, ConfigError, type AppConfig } from './config.js';
import { createApp, type AppBackground } from './app.js';
import { loadServiceCatalog } from './cds/services.js';
import { loadTrustedClients } from './cds/trustedClients.js';
import { CardTemplates } from './cards/render.js';
import { DrugDictionary } from './domain/drugs.js';
import { defaultRegistry, type EvaluatorDependencies } from './dosing/registry.js';
import { loadWarfarinModel } from './model/warfarinModel.js';
import { observeModelInference, replaySharedFallback } from './observability/metrics.js';
import { createLogger, type Logger } from './observability/logger.js';
import { SqliteWorkerWriter } from './store/auditWriter.js';
import { openStore, SQLITE_FILE } from './store/open.js';
import { PgStore } from './store/postgres.js';
import { InMemoryReplayCache } from './cds/replayCache.js';
import { SharedReplayStore } from './cds/sharedReplayStore.js';

export interface RunningServer {
  url: string;
  config: AppConfig;
  close(): Promise<void>;
}

/** Models and knowledge are loaded once here, never per request. A missing model degrades to the IWPC equation. */
export async function loadEvaluatorDependencies(log: Logger): Promise<EvaluatorDependencies> {
  const t0 = performance.now();
  try {
    const warfarinModel = await loadWarfarinModel();
    log.info({ event: 'model_loaded', model: warfarinModel.card.name, version: warfarinModel.version, ms: Math.round(performance.now() - t0) }, 'warfarin model loaded');
    return { warfarinModel, onModelInference: observeModelInference };
  } catch (e) {
    const reason = (e as Error)?.message ?? 'unknown error';
    log.warn({ event: 'model_unavailable', reason }, 'warfarin dose model unavailable: warfarin cards fall back to the IWPC equation');
    return { warfarinModelUnavailable: 'model file missing or unreadable' };
  }
}

function sharedReplayStore(db: PgStore, maxEntries: number, log: Logger): SharedReplayStore {
  return new SharedReplayStore({
    local: new InMemoryReplayCache({ maxEntries }),
    shared: db,
    onFallback: (reason) => {
      replaySharedFallback.inc({ reason });
      // once per retry period, not per call
      if (reason !== 'skipped') log.warn({ event: 'replay_shared_unavailable', reason }, 'shared replay protection unavailable: tokens checked by this replica only');
    },
  });
}

export async function startServer(env: NodeJS.ProcessEnv = process.env, logger?: Logger): Promise<RunningServer> {
  const config = loadConfig(env);
  const log = logger ?? createLogger(config.logLevel);
  const clients = loadTrustedClients(path.resolve(config.cdsClientsFile));
  const store = openStore(config, log);
  await store.init(); // migrations; a database that is down at start leaves the store degraded, not the service
  if (store.kind === 'sqlite' && config.audit.writerThread !== false) {
    // SQLite is synchronous: hook audit records are written on a worker thread, off the event loop (docs/performance.md)
    try {
      store.useWriter(await SqliteWorkerWriter.start(path.resolve(config.dataDir, SQLITE_FILE), (r) => store.backend.recordHook(r)));
    } catch (e) {
      log.warn({ event: 'audit_writer_thread_unavailable', error: (e as Error)?.name ?? 'Error' }, 'audit records are written on the main thread');
    }
  }
  // several replicas share PostgreSQL: a token accepted by one is refused by the others (per replica otherwise)
  const replayStore =
    store.backend instanceof PgStore && config.auth.mode === 'enforce' ? sharedReplayStore(store.backend, config.auth.replayCacheMaxEntries, log) : undefined;
  const deps = await loadEvaluatorDependencies(log);
  let ready = false;
  const app = createApp({
    config,
    logger: log,
    catalog: loadServiceCatalog(),
    drugs: DrugDictionary.load(),
    templates: CardTemplates.load(),
    store,
    clients,
    ...(replayStore ? { replayStore } : {}),
    evaluators: defaultRegistry(deps),
    isReady: () => ready,
  });
  const server = app.listen(config.port, config.host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = config.requestDeadlineMs + 5000;
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.port;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  ready = true;
  log.info({ event: 'listening', url, publicBaseUrl: config.publicBaseUrl, authMode: config.auth.mode, store: store.kind, clients: clients.clients.length }, 'service ready');

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      ready = false;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 10_000).unref();
      });
      await (app.locals['background'] as AppBackground | undefined)?.stop(); // the notification worker, before its store
      await store.close();
      log.info({ event: 'stopped' }, 'service stopped');
    })());
  return { url, config, close };
}

const isMain = import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('/server.js') || process.argv[1]?.endsWith('/server.ts');
if (isMain) {
  startServer().then(
    (s) => {
      for (const sig of ['SIGTERM', 'SIGINT'] as const) {
        process.once(sig, () => {
          s.close().then(
            () => process.exit(0),
            () => process.exit(1),
          );
        });
      }
    },
    (e: unknown) => {
      if (e instanceof ConfigError || (e as Error)?.name === 'TrustedClientsError') console.error(`Configuration error: ${(e as Error).message}`);
      else console.error(`Start-up failed: ${(e as Error)?.message ?? String(e)}`);
      process.exit(1);
    },
  );
}
