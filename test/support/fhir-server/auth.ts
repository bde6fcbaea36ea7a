// The bearer-token check of the test FHIR server (app.ts): a configured token, or (with `jwksUrl`) a JWT signed by a
// key of that JWKS and not expired; a JWT with a `patient` claim may read only that Patient, like a patient-scoped
// SMART token.
import type { IncomingMessage } from 'node:http';
import { jwtVerify, type createRemoteJWKSet, type JWTPayload } from 'jose';
import { HttpError, outcomeOf } from './http.js';
import { bearerToken, type RequestLogEntry } from './request-log.js';

export type Jwks = ReturnType<typeof createRemoteJWKSet>;

/** Throws HttpError 401 (no or a wrong token) or 403 (another patient's Patient); nothing when no check is configured. */
export async function checkBearer(req: IncomingMessage, path: string, entry: RequestLogEntry, tokens: string[], jwks: Jwks | undefined): Promise<void> {
  if (tokens.length === 0 && !jwks) return;
  const token = bearerToken(req);
  let claims: JWTPayload | undefined;
  if (token !== undefined && entry.tokenIndex === null && jwks) {
    try {
      claims = (await jwtVerify(token, jwks)).payload;
    } catch {
      claims = undefined;
    }
  }
  if (token === undefined || (entry.tokenIndex === null && !claims)) {
    throw new HttpError(401, outcomeOf('error', 'login', token !== undefined ? 'Invalid bearer token' : 'Missing bearer token'));
  }
  const [type, id] = path.split('/').filter(Boolean);
  if (typeof claims?.['patient'] === 'string' && type === 'Patient' && id !== undefined && id !== claims['patient']) {
    throw new HttpError(403, outcomeOf('error', 'forbidden', 'The token is for another patient'));
  }
}
