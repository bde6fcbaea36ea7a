// Audit writes on a worker thread (SQLite only). better-sqlite3 is synchronous: an audit insert on the main thread
// costs the event loop ~0.3 ms of CPU per hook call (JSON of the Recommendation + three inserts + commit), about 13%
// of the service's busy time under load (docs/performance.md). Here the main thread only hands the completed records (a batch per round trip)
// to a worker (structured clone); the worker owns its own connection to the same WAL database and writes it with the
// same SqliteStore code. Reads, feedback, purge and spool replay keep using the main-thread connection.
//
// Failure semantics are the AuditedStore's: a write that fails in the worker rejects, and the AuditedStore spools it.
// If the worker dies, pending writes reject (→ spooled) and later writes go through the fallback (main thread).
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import type { HookRecord } from './store.js';

const WORKER_KIND = 'pgx-audit-writer';

/** What AuditedStore needs to write a hook record somewhere other than its backend. */
export interface HookWriter {
  /** Writes every record (each idempotent by id); rejects if any could not be written. */
  recordHooks(rs: HookRecord[]): Promise<void>;
  close(): Promise<void>;
}

type Reply = { id: number; ok: true } | { id: number; ok: false; name: string; code?: string; message: string };

export class SqliteWorkerWriter implements HookWriter {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private dead = false;

  private constructor(worker: Worker, private readonly fallback: (r: HookRecord) => Promise<void>) {
    this.worker = worker;
    worker.on('message', (m: Reply) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (this.pending.size === 0) worker.unref();
      if (m.ok) p.resolve();
      else p.reject(Object.assign(new Error(m.message), { name: m.name, ...(m.code ? { code: m.code } : {}) }));
    });
    const die = (e: Error) => {
      this.dead = true;
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    };
    worker.on('error', die);
    worker.on('exit', () => die(Object.assign(new Error('audit writer thread exited'), { name: 'AuditWriterExited' })));
    worker.unref();
  }

  /** Starts the worker and waits until its connection is open. `fallback` writes on the main thread if it dies. */
  static async start(sqliteFile: string, fallback: (r: HookRecord) => Promise<void>): Promise<SqliteWorkerWriter> {
    const self = new URL(import.meta.url);
    // the worker holds one batch at a time: a small heap keeps its RSS small (out of memory → it dies → fallback)
    const workerOpts = { workerData: { kind: WORKER_KIND, file: sqliteFile }, resourceLimits: { maxOldGenerationSizeMb: 64, maxYoungGenerationSizeMb: 8 } };
    // from the TypeScript sources (tsx, in development and tests) the worker registers tsx's loader first
    const worker = self.pathname.endsWith('.ts')
      ? new Worker(`import('tsx/esm/api').then((t) => { t.register(); return import(${JSON.stringify(self.href)}); })`, { ...workerOpts, eval: true })
      : new Worker(self, workerOpts);
    await new Promise<void>((resolve, reject) => {
      const onMsg = (m: { ready?: boolean; error?: string }) => {
        worker.off('error', reject);
        if (m.ready) resolve();
        else reject(new Error(`audit writer thread failed to open the database: ${m.error ?? 'unknown'}`));
      };
      worker.once('message', onMsg);
      worker.once('error', reject);
    });
    return new SqliteWorkerWriter(worker, fallback);
  }

  async recordHooks(rs: HookRecord[]): Promise<void> {
    if (this.dead) {
      for (const r of rs) await this.fallback(r);
      return;
    }
    const id = this.nextId++;
    return new Promise<void>((resolve, reject) => {
      if (this.pending.size === 0) this.worker.ref(); // a write in flight keeps the process alive, as a main-thread write would
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, recs: rs });
    });
  }

  async close(): Promise<void> {
    if (this.dead) return;
    this.dead = true;
    this.worker.ref(); // shutdown waits for the worker to close its connection
    await new Promise<void>((resolve) => {
      this.worker.once('exit', () => resolve());
      this.worker.postMessage({ close: true });
    });
  }
}

async function runWorker(file: string): Promise<void> {
  const port = parentPort!;
  let store: import('./sqlite.js').SqliteStore;
  try {
    const { SqliteStore } = await import('./sqlite.js');
    store = new SqliteStore(file);
  } catch (e) {
    port.postMessage({ ready: false, error: (e as Error)?.name ?? 'Error' });
    return;
  }
  // the batch in one transaction (one commit): all of it is written or none, and a failed batch is spooled whole
  const writeAll = (recs: HookRecord[]) => store.recordHooks(recs);
  port.on('message', (m: { id: number; recs: HookRecord[] } | { close: true }) => {
    if ('close' in m) {
      void store.close().finally(() => port.close());
      return;
    }
    writeAll(m.recs).then(
      () => port.postMessage({ id: m.id, ok: true } satisfies Reply),
      (e: unknown) => {
        const err = e as { name?: string; code?: string; message?: string };
        port.postMessage({ id: m.id, ok: false, name: err?.name ?? 'Error', ...(err?.code ? { code: err.code } : {}), message: err?.message ?? String(e) } satisfies Reply);
      },
    );
  });
  port.postMessage({ ready: true });
}

if (!isMainThread && (workerData as { kind?: string } | null)?.kind === WORKER_KIND) {
  void runWorker((workerData as { file: string }).file);
}
