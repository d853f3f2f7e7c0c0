import type { UsageRow } from './api';

/** A usage row with the tenant it belongs to (admin views merge several tenants' rows). */
export interface TenantUsageRow extends UsageRow {
  tenant: string;
}

export type GroupBy = 'date' | 'model' | 'key_id' | 'tenant';

export interface Totals {
  requests: number;
  prompt_tokens: number;
  cached_tokens: number;
  completion_tokens: number;
  cost_micros: number;
}

export function emptyTotals(): Totals {
  return { requests: 0, prompt_tokens: 0, cached_tokens: 0, completion_tokens: 0, cost_micros: 0 };
}

function add(t: Totals, r: Totals) {
  t.requests += r.requests;
  t.prompt_tokens += r.prompt_tokens;
  t.cached_tokens += r.cached_tokens;
  t.completion_tokens += r.completion_tokens;
  t.cost_micros += r.cost_micros;
}

export function totals(rows: Totals[]): Totals {
  const t = emptyTotals();
  rows.forEach((r) => add(t, r));
  return t;
}

/** Sums the rows per value of one column, sorted by that value. */
export function groupRows(rows: TenantUsageRow[], by: GroupBy): { group: string; totals: Totals }[] {
  const m = new Map<string, Totals>();
  for (const r of rows) {
    const k = String(r[by] ?? '');
    if (!m.has(k)) m.set(k, emptyTotals());
    add(m.get(k)!, r);
  }
  return [...m.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([group, t]) => ({ group, totals: t }));
}

/** Every day from..to (inclusive, YYYY-MM-DD, UTC). */
export function days(from: string, to: string): string[] {
  const out: string[] = [];
  const d = new Date(`${from}T00:00:00Z`);
  const end = new Date(`${to}T00:00:00Z`);
  while (d <= end && out.length < 400) {
    out.push(d.toISOString().slice(0, 10));
    d.setUTCDate(d.getUTCDate() + 1);
  }
  return out;
}

/** Tokens (prompt + completion) per day, one series per value of `series` (a stacked chart). */
export function tokensPerDay(
  rows: TenantUsageRow[],
  from: string,
  to: string,
  series: GroupBy,
): { days: string[]; series: { name: string; data: number[] }[] } {
  const ds = days(from, to);
  const index = new Map(ds.map((d, i) => [d, i]));
  const m = new Map<string, number[]>();
  for (const r of rows) {
    const i = index.get(r.date);
    if (i === undefined) continue;
    const name = String(r[series] ?? '');
    if (!m.has(name)) m.set(name, new Array(ds.length).fill(0));
    m.get(name)![i] += r.prompt_tokens + r.completion_tokens;
  }
  return {
    days: ds,
    series: [...m.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([name, data]) => ({ name, data })),
  };
}

function csvCell(v: string | number): string {
  const s = String(v);
  // a leading =, +, - or @ would be a formula in a spreadsheet
  const safe = /^[=+\-@\t\r]/.test(s) && typeof v !== 'number' ? `'${s}` : s;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** The rows as CSV (RFC 4180, CRLF line ends), money in both micro-units and units. */
export function toCsv(rows: TenantUsageRow[], currency: string): string {
  const header = [
    'date',
    'tenant',
    'key_id',
    'model',
    'requests',
    'prompt_tokens',
    'cached_tokens',
    'completion_tokens',
    'cost_micros',
    `cost_${currency}`,
  ];
  const lines = [header.join(',')];
  const sorted = [...rows].sort(
    (a, b) =>
      a.date.localeCompare(b.date) ||
      a.tenant.localeCompare(b.tenant) ||
      a.key_id.localeCompare(b.key_id) ||
      a.model.localeCompare(b.model),
  );
  for (const r of sorted) {
    lines.push(
      [
        r.date,
        r.tenant,
        r.key_id,
        r.model,
        r.requests,
        r.prompt_tokens,
        r.cached_tokens,
        r.completion_tokens,
        r.cost_micros,
        formatMicros(r.cost_micros),
      ]
        .map(csvCell)
        .join(','),
    );
  }
  return lines.join('\r\n') + '\r\n';
}

/** Micro-units as a decimal string with 6 places, exactly (no floating point). */
export function formatMicros(micros: number): string {
  const neg = micros < 0;
  const abs = Math.abs(Math.trunc(micros));
  const units = Math.floor(abs / 1_000_000);
  const frac = String(abs % 1_000_000).padStart(6, '0');
  return `${neg ? '-' : ''}${units}.${frac}`;
}

/** A money amount typed by a person ("12.5") as micro-units, or null when it is not one. */
export function parseAmount(text: string): number | null {
  const m = /^\s*(\d{1,12})(?:\.(\d{1,6}))?\s*$/.exec(text);
  if (!m) return null;
  const micros = Number(m[1]) * 1_000_000 + Number((m[2] ?? '').padEnd(6, '0'));
  return micros > 0 ? micros : null;
}

export function todayUtc(offsetDays = 0): string {
  const d = new Date();
  d.setUTCDate(d.getUTCDate() + offsetDays);
  return d.toISOString().slice(0, 10);
}
