// Every call goes to the gateway that served this page: /admin/** (admin token) and /v1/** (API key).

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The message of an error body in any of the shapes the gateway answers with. */
export function errorMessage(status: number, text: string): string {
  try {
    const j = JSON.parse(text);
    const e = j?.error;
    if (typeof e === 'string') return `${status}: ${e}`;
    if (e && typeof e.message === 'string') {
      const code = e.code !== undefined && e.code !== null ? ` [${e.code}]` : '';
      return `${status}${code}: ${e.message}`;
    }
    if (typeof j?.message === 'string') return `${status}: ${j.message}`;
  } catch {
    // not JSON
  }
  const plain = text.trim().slice(0, 300);
  return plain ? `${status}: ${plain}` : `HTTP ${status}`;
}

async function call<R>(method: string, path: string, bearer: string, body?: unknown): Promise<R> {
  const headers: Record<string, string> = { Authorization: `Bearer ${bearer}`, Accept: 'application/json' };
  let payload: string | undefined;
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  const res = await fetch(path, { method, headers, body: payload, cache: 'no-store' });
  const text = await res.text();
  if (!res.ok) throw new ApiError(res.status, errorMessage(res.status, text));
  return (text ? JSON.parse(text) : {}) as R;
}

export interface Limits {
  requests_per_minute: number;
  tokens_per_minute: number;
  max_concurrency: number;
}

export interface Tenant extends Limits {
  id: string;
  name: string;
  status: 'ACTIVE' | 'SUSPENDED';
  created_at: string;
  updated_at: string;
}

export interface Key extends Limits {
  key_id: string;
  tenant_id: string;
  name: string;
  status: 'ACTIVE' | 'REVOKED' | 'EXPIRED';
  allowed_models: string[];
  expires_at: string | null;
  revoked_at: string | null;
  last_used_at: string | null;
  created_at: string;
}

export interface CreatedKey extends Key {
  api_key: string;
}

export interface Balance {
  tenant_id?: string;
  balance_micros: number;
  reserved_micros: number;
  available_micros?: number;
  currency: string;
}

export interface UsageRow {
  date: string;
  model: string;
  key_id: string;
  requests: number;
  prompt_tokens: number;
  cached_tokens: number;
  completion_tokens: number;
  cost_micros: number;
}

export interface Worker {
  worker_id: string;
  address: string;
  model: string | null;
  state: string;
  routable: boolean;
  device?: string;
  num_running?: number;
  num_waiting?: number;
  kv_cache_usage?: number;
  decode_tokens_per_second?: number;
  in_flight: number;
}

const enc = encodeURIComponent;

export function adminApi(token: string) {
  const a = (m: string, p: string, b?: unknown) => call<any>(m, p, token, b);
  return {
    tenants: async (): Promise<Tenant[]> => (await a('GET', '/admin/auth/v1/tenants')).data,
    createTenant: (name: string, limits: Limits): Promise<Tenant> =>
      a('POST', '/admin/auth/v1/tenants', { name, ...limits }),
    patchTenant: (id: string, patch: Partial<Limits> & { status?: string; name?: string }): Promise<Tenant> =>
      a('PATCH', `/admin/auth/v1/tenants/${enc(id)}`, patch),
    keys: async (tenantId: string): Promise<Key[]> =>
      (await a('GET', `/admin/auth/v1/tenants/${enc(tenantId)}/keys`)).data,
    createKey: (
      tenantId: string,
      body: Limits & { name: string; allowed_models?: string[]; expires_at?: string | null },
    ): Promise<CreatedKey> => a('POST', `/admin/auth/v1/tenants/${enc(tenantId)}/keys`, body),
    patchKey: (keyId: string, body: Record<string, unknown>): Promise<Key> =>
      a('PATCH', `/admin/auth/v1/keys/${enc(keyId)}`, body),
    revokeKey: (keyId: string): Promise<Key> => a('POST', `/admin/auth/v1/keys/${enc(keyId)}/revoke`),
    balance: (tenantId: string): Promise<Balance> =>
      a('GET', `/admin/billing/v1/accounts/${enc(tenantId)}/balance`),
    topUp: (tenantId: string, amountMicros: number, currency: string): Promise<Balance> =>
      a('POST', `/admin/billing/v1/accounts/${enc(tenantId)}/top-ups`, {
        amount_micros: amountMicros,
        currency,
      }),
    usage: async (tenantId: string, from: string, to: string): Promise<UsageRow[]> =>
      (await a('GET', `/admin/billing/v1/accounts/${enc(tenantId)}/usage?from=${from}&to=${to}`)).rows,
    workers: async (): Promise<Worker[]> => (await a('GET', '/admin/gateway/v1/workers')).data,
  };
}

export function tenantApi(key: string) {
  const a = (m: string, p: string) => call<any>(m, p, key);
  return {
    models: async (): Promise<string[]> =>
      ((await a('GET', '/v1/models')).data as { id: string }[]).map((m) => m.id),
    balance: (): Promise<Balance> => a('GET', '/v1/billing/balance'),
    usage: async (from: string, to: string): Promise<{ rows: UsageRow[]; currency: string }> =>
      a('GET', `/v1/billing/usage?from=${from}&to=${to}`),
  };
}

export type AdminApi = ReturnType<typeof adminApi>;
export type TenantApi = ReturnType<typeof tenantApi>;
