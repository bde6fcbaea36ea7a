// Chooses the store from configuration: PostgreSQL when DATABASE_URL is set, else SQLite under the data directory.
import path from 'node:path';
import type { Logger } from 'pino';
import type { AppConfig } from '../config.js';
import { patientKeyFor } from './audit.js';
import { PgStore } from './postgres.js';
import { AuditedStore } from './resilient.js';
import { SqliteStore } from './sqlite.js';
import type { Store } from './store.js';

export const SQLITE_FILE = 'pgx-dosing.sqlite';

/** The database itself (no queue/spool): for the report and purge commands. */
export function openBackend(config: AppConfig, logger?: Logger): Store {
  if (config.databaseUrl) {
    return new PgStore({
      connectionString: config.databaseUrl,
      poolSize: config.database.poolSize,
      connectTimeoutMs: config.database.connectTimeoutMs,
      onPoolError: (e) => logger?.warn({ event: 'db_connection_error', error: (e as { code?: string }).code ?? e.name }, 'database connection error'),
    });
  }
  return new SqliteStore(path.resolve(config.dataDir, SQLITE_FILE));
}

/** The service's store: audit writes queued off the response path and spooled under the data directory when needed. */
export function openStore(config: AppConfig, logger?: Logger): AuditedStore {
  return new AuditedStore({
    backend: openBackend(config, logger),
    spoolDir: path.resolve(config.dataDir),
    patientKey: patientKeyFor({ pseudonymize: config.audit.pseudonymizePatientIds, key: config.audit.patientIdKey }),
    retryIntervalMs: config.audit.retryIntervalMs,
    maxQueue: config.audit.maxQueue,
    ...(logger ? { logger } : {}),
  });
}
