import { useCallback, useEffect, useState } from 'react';
import type { AdminApi, Tenant } from '../api';
import { useI18n } from '../i18n';
import { Notice } from '../components/ui';
import { DateRange, UsageView } from '../components/UsageView';
import { todayUtc, type TenantUsageRow } from '../usage';

/** Usage and spend of every tenant (one billing query per tenant), by tenant, key, model or day. */
export function Usage(props: { api: AdminApi }) {
  const { t } = useI18n();
  const [from, setFrom] = useState(todayUtc(-29));
  const [to, setTo] = useState(todayUtc());
  const [tenants, setTenants] = useState<Tenant[]>([]);
  const [rows, setRows] = useState<TenantUsageRow[] | null>(null);
  const [currency, setCurrency] = useState('CNY');
  const [error, setError] = useState('');

  const load = useCallback(async () => {
    setError('');
    try {
      const ts = await props.api.tenants();
      setTenants(ts);
      const all = await Promise.all(
        ts.map(async (x) => (await props.api.usage(x.id, from, to)).map((r) => ({ ...r, tenant: x.id }))),
      );
      setRows(all.flat());
      if (ts.length > 0) setCurrency((await props.api.balance(ts[0].id)).currency || 'CNY');
    } catch (e) {
      setError(`${t('requestFailed')}: ${(e as Error).message}`);
    }
  }, [props.api, from, to, t]);

  useEffect(() => {
    load();
  }, [load]);

  return (
    <section aria-labelledby="usage-title">
      <h1 id="usage-title">{t('usageTitle')}</h1>
      <Notice kind="error">{error}</Notice>
      <DateRange
        from={from}
        to={to}
        onChange={(f, tt) => {
          setFrom(f);
          setTo(tt);
        }}
        onRefresh={load}
      />
      {rows === null ? (
        <p>{t('loading')}</p>
      ) : (
        <UsageView
          rows={rows}
          from={from}
          to={to}
          currency={currency}
          groups={['tenant', 'model', 'key_id', 'date']}
          tenantName={(id) => tenants.find((x) => x.id === id)?.name ?? id}
        />
      )}
    </section>
  );
}
