// Configuration of CDS client authentication and the context built from it once (trusted clients indexed by iss,
// allowed algorithms, limits, replay store, jku key-set cache, logger, clock), shared by every verifyCdsJwt call.
import type { CryptoKey, KeyObject } from 'jose';
import { indexByKid, RemoteJwksCache, type RemoteJwksOptions } from '../jwksCache.js';
import { InMemoryReplayCache, type ReplayStore } from '../replayCache.js';
import { normalizeJku, type PublicJwk, type TrustedClient, type TrustedClients } from '../trustedClients.js';
import type { AuthLogger } from './types.js';

export const DEFAULT_ALGORITHMS = ['ES384', 'RS384', 'ES256', 'RS256'] as const;
/** Asymmetric algorithms that may be enabled through `algorithms`. */
export const SUPPORTED_ALGORITHMS = ['ES256', 'ES384', 'ES512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'EdDSA', 'Ed25519'] as const;

export interface CdsAuthConfig {
  clients: TrustedClients | readonly TrustedClient[];
  /** Accepted `alg` values (default ES384, RS384, ES256, RS256). Symmetric algorithms and `none` are refused. */
  algorithms?: readonly string[];
  /** Tolerance for exp/nbf/iat, seconds (default 60). */
  clockSkewSec?: number;
  /** Upper bound for `exp - iat`, seconds (default 3600). */
  maxTokenLifetimeSec?: number;
  /** Require header `typ` = JWT (default true, as the spec says REQUIRED). */
  requireTyp?: boolean;
  /** Longest token accepted by `verifyCdsJwt`, characters (default 8192). */
  maxTokenBytes?: number;
  /** Default: a new `InMemoryReplayCache` remembering at most `replayCacheMaxEntries` tokens. */
  replayStore?: ReplayStore;
  /** Bound of the default in-memory replay cache (default 1 000 000 tokens, 12 bytes each). */
  replayCacheMaxEntries?: number;
  /** Options for the `jku` key-set cache, or a shared instance. */
  jwks?: RemoteJwksOptions | RemoteJwksCache;
  logger?: AuthLogger;
  /** Clock in epoch ms, for tests. */
  now?: () => number;
}

export interface ClientEntry {
  client: TrustedClient;
  inline: Map<string, PublicJwk[]>;
  jku: ReadonlySet<string>;
}

/** Everything `verifyCdsJwt` needs; build once with `createCdsAuthContext` and share. */
export interface CdsAuthContext {
  readonly clients: ReadonlyMap<string, ClientEntry>;
  readonly algorithms: ReadonlySet<string>;
  readonly clockSkewSec: number;
  readonly maxTokenLifetimeSec: number;
  readonly requireTyp: boolean;
  readonly maxTokenBytes: number;
  readonly replayStore: ReplayStore;
  readonly remoteJwks: RemoteJwksCache;
  readonly logger: AuthLogger;
  readonly now: () => number;
  /** Imported keys, per JWK object and alg. Fetched key sets are new objects, so old keys are collected. */
  readonly importedKeys: WeakMap<PublicJwk, Map<string, Promise<CryptoKey | KeyObject>>>;
}

const noopLogger: AuthLogger = { debug() {}, info() {}, warn() {} };

export function createCdsAuthContext(config: CdsAuthConfig): CdsAuthContext {
  const algorithms = new Set(config.algorithms ?? DEFAULT_ALGORITHMS);
  for (const a of algorithms) {
    if (!(SUPPORTED_ALGORITHMS as readonly string[]).includes(a)) {
      throw new Error(`CDS auth: algorithm "${a}" is not allowed (only asymmetric signature algorithms: ${SUPPORTED_ALGORITHMS.join(', ')})`);
    }
  }
  const list = Array.isArray(config.clients) ? (config.clients as readonly TrustedClient[]) : (config.clients as TrustedClients).clients;
  const clients = new Map<string, ClientEntry>();
  for (const c of list) {
    if (clients.has(c.iss)) throw new Error(`CDS auth: duplicate trusted client iss "${c.iss}"`);
    const jku = new Set<string>();
    for (const u of c.jku ?? []) {
      const n = normalizeJku(u);
      if (n === undefined) throw new Error(`CDS auth: invalid jku "${u}" for iss "${c.iss}"`);
      jku.add(n);
    }
    clients.set(c.iss, { client: c, inline: indexByKid(c.jwks?.keys ?? []), jku });
  }
  const logger = config.logger ?? noopLogger;
  const now = config.now ?? Date.now;
  const remoteJwks =
    config.jwks instanceof RemoteJwksCache ? config.jwks : new RemoteJwksCache({ logger, now, ...(config.jwks ?? {}) });
  return {
    clients,
    algorithms,
    clockSkewSec: config.clockSkewSec ?? 60,
    maxTokenLifetimeSec: config.maxTokenLifetimeSec ?? 3600,
    requireTyp: config.requireTyp ?? true,
    maxTokenBytes: config.maxTokenBytes ?? 8192,
    replayStore:
      config.replayStore ??
      new InMemoryReplayCache({ now, ...(config.replayCacheMaxEntries !== undefined ? { maxEntries: config.replayCacheMaxEntries } : {}) }),
    remoteJwks,
    logger,
    now,
    importedKeys: new WeakMap(),
  };
}
