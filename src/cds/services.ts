// Service catalogue (config/services.json): discovery documents and the prefetch templates each service declares.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { SUPPORTED_HOOKS, type ServiceDefinition } from './protocol.js';

const CatalogSchema = z
  .object({
    prefetch: z.record(z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/), z.string().min(1)),
    required: z.array(z.string()),
    services: z
      .array(
        z
          .object({
            hook: z.enum(SUPPORTED_HOOKS),
            id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]*$/),
            title: z.string().min(1),
            description: z.string().min(1),
          })
          .strict(),
      )
      .min(1),
  })
  .strict();

export interface ServiceCatalog {
  /** prefetch key → template, shared by every service */
  prefetch: Record<string, string>;
  /** prefetch keys without which the service cannot answer (→ 412) */
  required: string[];
  services: (ServiceDefinition & { title: string })[];
  byId: Map<string, ServiceDefinition & { title: string }>;
}

export function loadServiceCatalog(file = path.resolve(process.cwd(), 'config/services.json')): ServiceCatalog {
  const parsed = CatalogSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
  for (const r of parsed.required) {
    if (!parsed.prefetch[r]) throw new Error(`config/services.json: required key "${r}" has no prefetch template`);
  }
  const services = parsed.services.map((s) => ({ ...s, prefetch: parsed.prefetch }));
  return { prefetch: parsed.prefetch, required: parsed.required, services, byId: new Map(services.map((s) => [s.id, s])) };
}

/** The discovery document: only fields with values (CDS Hooks JSON rule). */
export function discoveryDocument(catalog: ServiceCatalog): { services: ServiceDefinition[] } {
  return {
    services: catalog.services.map((s) => ({
      hook: s.hook,
      id: s.id,
      title: s.title,
      description: s.description,
      prefetch: s.prefetch,
    })),
  };
}

/** Context fields a template may reference, per hook (first-level primitive fields only). */
export function renderPrefetchTemplate(
  template: string,
  context: Record<string, unknown>,
): string | undefined {
  let unresolved = false;
  const out = template.replace(/\{\{\s*([A-Za-z.]+)\s*\}\}/g, (_m, token: string) => {
    let v: unknown;
    if (token.startsWith('context.')) v = context[token.slice('context.'.length)];
    else if (token === 'userPractitionerId' || token === 'userPractitionerRoleId' || token === 'userPatientId' || token === 'userRelatedPersonId') {
      const user = typeof context['userId'] === 'string' ? (context['userId'] as string) : '';
      const [type, id] = user.split('/');
      const wanted = token.slice('user'.length, -'Id'.length);
      v = type === wanted ? id : undefined;
    }
    if (typeof v !== 'string' && typeof v !== 'number') {
      unresolved = true;
      return '';
    }
    return encodeURIComponent(String(v));
  });
  return unresolved ? undefined : out;
}
