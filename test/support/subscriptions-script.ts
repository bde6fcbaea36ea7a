// scripts/create-subscriptions.ts run as a deployment runs it: a child process (tsx) with only the environment it
// needs (the backend FHIR server and its token, the notification secret and the EHR's client iss, the public URL the
// Subscriptions post to); resolves with its output, rejects like execFile (code, stderr) when it exits non-zero.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface SubscriptionsScriptEnv {
  /** BACKEND_FHIR_URL, also the only FHIR_ALLOWED_SERVERS entry */
  fhirUrl: string;
  /** BACKEND_FHIR_TOKEN */
  fhirToken: string;
  /** NOTIFY_TOKEN: the secret the Subscriptions send in channel.header */
  notifyToken: string;
  /** NOTIFY_CLIENT_ISS */
  clientIss: string;
  /** PUBLIC_BASE_URL: the Subscriptions post to its /notifications */
  publicBaseUrl: string;
}

export function createSubscriptions(o: SubscriptionsScriptEnv, extraEnv: Record<string, string> = {}, args: string[] = []): Promise<{ stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'],
    HOME: process.env['HOME'],
    BACKEND_FHIR_URL: o.fhirUrl,
    BACKEND_FHIR_TOKEN: o.fhirToken,
    NOTIFY_TOKEN: o.notifyToken,
    NOTIFY_CLIENT_ISS: o.clientIss,
    FHIR_ALLOWED_SERVERS: o.fhirUrl,
    FHIR_ALLOW_INSECURE_LOOPBACK: 'true',
    PUBLIC_BASE_URL: o.publicBaseUrl,
    ...extraEnv,
  };
  return run(process.execPath, ['--import', 'tsx', 'scripts/create-subscriptions.ts', ...args], { env, cwd: process.cwd(), timeout: 60000 });
}
