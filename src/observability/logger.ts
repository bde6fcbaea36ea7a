// Structured logging (pino). Log ids and timings only: never names, birth dates, genotypes or tokens.
import { pino, type Logger } from 'pino';

export type { Logger };

/** Paths redacted defensively, in case a request object is ever logged by mistake. */
const REDACT = [
  'req.headers.authorization',
  'headers.authorization',
  'authorization',
  'access_token',
  'fhirAuthorization',
  '*.access_token',
  '*.fhirAuthorization',
  'prefetch',
  '*.prefetch',
];

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    { level, base: { service: 'pgx-dosing-cds' }, redact: { paths: REDACT, censor: '[redacted]' } },
    destination as pino.DestinationStream | undefined,
  );
}
