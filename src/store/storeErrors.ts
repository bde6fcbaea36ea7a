// What a store error means for the caller: the database is unavailable (503, retry later), or it refused this input
// (a client error: retrying can never store it). Logs name the underlying class or code, never the data.

/** The database could not be reached or did not answer: callers answer 503 rather than claim success. */
export class StoreUnavailableError extends Error {
  override name = 'StoreUnavailableError';
  /** the underlying error's code or class name (e.g. SQLITE_BUSY, ECONNREFUSED, 57014) */
  readonly causeName: string;
  constructor(causeName: string) {
    super(`store unavailable (${causeName})`);
    this.causeName = causeName;
  }
}

/** The database refused the values themselves (encoding, size, type): a 4xx for the client, never an outage. */
export class StoreInputError extends Error {
  override name = 'StoreInputError';
  readonly causeName: string;
  constructor(causeName: string) {
    super(`store refused the input (${causeName})`);
    this.causeName = causeName;
  }
}

/** Code or class name of an error, for logs. */
export function errorName(e: unknown): string {
  return (e as { code?: string })?.code ?? (e as Error)?.name ?? 'Error';
}

/**
 * Errors caused by the values written, not by the database's state: PostgreSQL class 22 (data exception, e.g. 22P05
 * "unsupported Unicode escape sequence" for U+0000 in JSONB, 22021 for U+0000 in text) and 54 (program limit, e.g. an
 * index row too large); SQLite SQLITE_TOOBIG / SQLITE_MISMATCH.
 */
export function isInputError(e: unknown): boolean {
  const code = (e as { code?: unknown })?.code;
  if (typeof code === 'string') {
    if (/^(22|54)[0-9A-Z]{3}$/.test(code)) return true;
    if (code === 'SQLITE_TOOBIG' || code === 'SQLITE_MISMATCH') return true;
  }
  return false;
}
