// What the command-line tools share: the audit store opened (migrations applied) and closed around the work, and the
// process exit code / one-line error message.
import { ConfigError, type AppConfig } from '../config.js';
import { openBackend } from '../store/open.js';
import type { Store } from '../store/store.js';

export async function withBackend<T>(config: AppConfig, work: (store: Store) => Promise<T>): Promise<T> {
  const store = openBackend(config);
  try {
    await store.init?.();
    return await work(store);
  } finally {
    await store.close();
  }
}

/** Runs `main` with the command-line arguments and exits with its code; an error → one line on stderr, exit 1. */
export function runCli(what: string, main: (argv: string[]) => Promise<number>): void {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`${e instanceof ConfigError ? 'Configuration error' : `${what} failed`}: ${(e as Error)?.message ?? String(e)}\n`);
      process.exit(1);
    },
  );
}
