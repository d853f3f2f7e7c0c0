import { useCallback, useEffect, useState, type FormEvent } from 'react';
import type { AdminApi, Balance, Tenant } from '../api';
import { useI18n } from '../i18n';
import { Notice, TableWrap } from '../components/ui';
import { formatMicros, parseAmount } from '../usage';

/** Every tenant's prepaid balance, with a top-up form per tenant. */
export function Billing(props: { api: AdminApi }) {
  const { t } = useI18n();
  const [rows, setRows] = useState<{ tenant: Tenant; balance: Balance | null; error?: string }[] | null>(null);
  const [amounts, setAmounts] = useState<Record<string, string>>({});
  const [error, setError] = useState('');
  const [ok, setOk] = useState('');

  const load = useCallback(async () => {
    try {
      const ts = await props.api.tenants();
      setRows(
        await Promise.all(
          ts.map(async (tenant) => {
            try {
              return { tenant, balance: await props.api.balance(tenant.id) };
            } catch (e) {
              return { tenant, balance: null, error: (e as Error).message };
            }
          }),
        ),
      );
    } catch (e) {
      setError(`${t('requestFailed')}: ${(e as Error).message}`);
    }
  }, [props.api, t]);

  useEffect(() => {
    load();
  }, [load]);

  async function topUp(e: FormEvent, tenant: Tenant, currency: string) {
    e.preventDefault();
    setError('');
    setOk('');
    const micros = parseAmount(amounts[tenant.id] ?? '');
    if (micros === null) {
      setError(t('amountInvalid'));
      return;
    }
    try {
      const b = await props.api.topUp(tenant.id, micros, currency);
      setOk(t('topUpDone', { tenant: tenant.name, balance: `${formatMicros(b.balance_micros)} ${b.currency}` }));
      setAmounts({ ...amounts, [tenant.id]: '' });
      await load();
    } catch (err) {
      setError(`${t('requestFailed')}: ${(err as Error).message}`);
    }
  }

  return (
    <section aria-labelledby="billing-title">
      <h1 id="billing-title">{t('billingTitle')}</h1>
      <Notice kind="error">{error}</Notice>
      <Notice kind="ok">{ok}</Notice>
      {rows === null ? (
        <p>{t('loading')}</p>
      ) : rows.length === 0 ? (
        <p>{t('noTenants')}</p>
      ) : (
        <TableWrap label={t('billingTitle')}>
          <table data-testid="billing-table">
            <caption>{t('billingTitle')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('tenant')}</th>
                <th scope="col">{t('balance')}</th>
                <th scope="col">{t('reserved')}</th>
                <th scope="col">{t('available')}</th>
                <th scope="col">{t('topUp')}</th>
              </tr>
            </thead>
            <tbody>
              {rows.map(({ tenant, balance, error: e }) => {
                const cur = balance?.currency || 'CNY';
                const m = (v: number | undefined) => (v === undefined ? t('none') : `${formatMicros(v)} ${cur}`);
                return (
                  <tr key={tenant.id}>
                    <th scope="row">
                      {tenant.name} <span className="mono muted">{tenant.id}</span>
                    </th>
                    {balance ? (
                      <>
                        <td>{m(balance.balance_micros)}</td>
                        <td>{m(balance.reserved_micros)}</td>
                        <td>{m(balance.available_micros ?? balance.balance_micros - balance.reserved_micros)}</td>
                      </>
                    ) : (
                      <td colSpan={3} className="error-text">
                        {e}
                      </td>
                    )}
                    <td>
                      <form className="inline-form" onSubmit={(ev) => topUp(ev, tenant, cur)}>
                        <label htmlFor={`topup-${tenant.id}`} className="sr-only">
                          {`${t('amount')} (${cur}) ${tenant.name}`}
                        </label>
                        <input
                          id={`topup-${tenant.id}`}
                          inputMode="decimal"
                          placeholder={`${t('amount')} (${cur})`}
                          value={amounts[tenant.id] ?? ''}
                          onChange={(ev) => setAmounts({ ...amounts, [tenant.id]: ev.target.value })}
                        />
                        <button type="submit">{t('topUp')}</button>
                      </form>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </TableWrap>
      )}
    </section>
  );
}
