import { useCallback, useEffect, useState } from 'react';
import type { Balance, TenantApi } from '../api';
import { useI18n } from '../i18n';
import { Notice } from '../components/ui';
import { DateRange, UsageView } from '../components/UsageView';
import { formatMicros, todayUtc, type TenantUsageRow } from '../usage';

/** A tenant's own balance and the usage of its keys. */
export function Overview(props: { api: TenantApi }) {
  const { t } = useI18n();
  const [from, setFrom] = useState(todayUtc(-29));
  const [to, setTo] = useState(todayUtc());
  const [balance, setBalance] = useState<Balance | null>(null);
  const [rows, setRows] = useState<TenantUsageRow[] | null>(null);
  const [currency, setCurrency] = useState('CNY');
  const [error, setError] = useState('');

  const load = useCallback(async () => {
    setError('');
    try {
      const [b, u] = await Promise.all([props.api.balance(), props.api.usage(from, to)]);
      setBalance(b);
      setCurrency(u.currency || b.currency || 'CNY');
      setRows(u.rows.map((r) => ({ ...r, tenant: '' })));
    } catch (e) {
      setError(`${t('requestFailed')}: ${(e as Error).message}`);
    }
  }, [props.api, from, to, t]);

  useEffect(() => {
    load();
  }, [load]);

  return (
    <section aria-labelledby="overview-title">
      <h1 id="overview-title">{t('overviewTitle')}</h1>
      <Notice kind="error" testId="overview-error">
        {error}
      </Notice>
      {balance && (
        <dl className="stats">
          <div>
            <dt>{t('balance')}</dt>
            <dd data-testid="balance">
              {formatMicros(balance.balance_micros)} {balance.currency}
            </dd>
          </div>
          <div>
            <dt>{t('reserved')}</dt>
            <dd>
              {formatMicros(balance.reserved_micros)} {balance.currency}
            </dd>
          </div>
        </dl>
      )}
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
        <UsageView rows={rows} from={from} to={to} currency={currency} groups={['model', 'key_id', 'date']} />
      )}
    </section>
  );
}
