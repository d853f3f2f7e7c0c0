import { useMemo, useState } from 'react';
import { useI18n, type MessageKey } from '../i18n';
import { formatMicros, groupRows, toCsv, tokensPerDay, totals, type GroupBy, type TenantUsageRow } from '../usage';
import { BarChartView } from './Chart';
import { Field, fmtInt, TableWrap } from './ui';

const GROUP_LABEL: Record<GroupBy, MessageKey> = { date: 'byDay', model: 'byModel', key_id: 'byKey', tenant: 'byTenant' };

/** Totals, a stacked tokens-per-day chart, spend per group, the table behind them and a CSV export. */
export function UsageView(props: {
  rows: TenantUsageRow[];
  from: string;
  to: string;
  currency: string;
  groups: GroupBy[];
  tenantName?: (id: string) => string;
}) {
  const { t } = useI18n();
  const [group, setGroup] = useState<GroupBy>(props.groups[0]);
  const sum = useMemo(() => totals(props.rows), [props.rows]);
  const series = group === 'date' ? 'model' : group;
  const perDay = useMemo(() => tokensPerDay(props.rows, props.from, props.to, series), [props.rows, props.from, props.to, series]);
  const grouped = useMemo(() => groupRows(props.rows, group), [props.rows, group]);
  const name = (g: string) => (group === 'tenant' && props.tenantName ? props.tenantName(g) : g);
  const totalTokens = sum.prompt_tokens + sum.completion_tokens;
  const money = (m: number) => `${formatMicros(m)} ${props.currency}`;
  const groupLabel = t(GROUP_LABEL[group]);

  function exportCsv() {
    const blob = new Blob([toCsv(props.rows, props.currency)], { type: 'text/csv;charset=utf-8' });
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = `usage-${props.from}-${props.to}.csv`;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  }

  return (
    <div className="usage">
      <dl className="stats">
        <div>
          <dt>{t('requests')}</dt>
          <dd data-testid="total-requests">{fmtInt(sum.requests)}</dd>
        </div>
        <div>
          <dt>{t('totalTokens')}</dt>
          <dd data-testid="total-tokens">{fmtInt(totalTokens)}</dd>
        </div>
        <div>
          <dt>{t('completionTokens')}</dt>
          <dd data-testid="total-completion-tokens">{fmtInt(sum.completion_tokens)}</dd>
        </div>
        <div>
          <dt>{t('spend')}</dt>
          <dd data-testid="total-spend">{money(sum.cost_micros)}</dd>
        </div>
      </dl>
      <div className="toolbar">
        {props.groups.length > 1 && (
          <Field label={t('groupBy')}>
            {(id) => (
              <select id={id} value={group} onChange={(e) => setGroup(e.target.value as GroupBy)} data-testid="usage-group">
                {props.groups.map((g) => (
                  <option key={g} value={g}>
                    {t(GROUP_LABEL[g])}
                  </option>
                ))}
              </select>
            )}
          </Field>
        )}
        <button type="button" onClick={exportCsv} disabled={props.rows.length === 0} data-testid="usage-csv">
          {t('exportCsv')}
        </button>
      </div>
      {props.rows.length === 0 ? (
        <p data-testid="usage-empty">{t('noUsage')}</p>
      ) : (
        <>
          <div className="charts">
            <BarChartView
              title={t('tokensPerDay')}
              label={`${t('tokensPerDay')}: ${t('totalTokens')} ${totalTokens}; ${perDay.series
                .map((s) => `${name(s.name)} ${s.data.reduce((a, b) => a + b, 0)}`)
                .join(', ')}`}
              categories={perDay.days}
              series={perDay.series.map((s) => ({ ...s, name: name(s.name) }))}
              testId="chart-tokens"
              integer
            />
            <BarChartView
              title={t('spendBy', { group: groupLabel })}
              label={`${t('spendBy', { group: groupLabel })}: ${grouped
                .map((g) => `${name(g.group)} ${formatMicros(g.totals.cost_micros)} ${props.currency}`)
                .join(', ')}`}
              categories={grouped.map((g) => name(g.group))}
              series={[{ name: `${t('spend')} (${props.currency})`, data: grouped.map((g) => g.totals.cost_micros / 1e6) }]}
              testId="chart-spend"
            />
          </div>
          <TableWrap label={t('showData')}>
            <table data-testid="usage-table">
              <caption>{t('showData')}</caption>
              <thead>
                <tr>
                  <th scope="col">{groupLabel}</th>
                  <th scope="col">{t('requests')}</th>
                  <th scope="col">{t('promptTokens')}</th>
                  <th scope="col">{t('cachedTokens')}</th>
                  <th scope="col">{t('completionTokens')}</th>
                  <th scope="col">{t('spend')}</th>
                </tr>
              </thead>
              <tbody>
                {grouped.map((g) => (
                  <tr key={g.group}>
                    <th scope="row" className={group === 'key_id' || group === 'tenant' ? 'mono' : undefined}>
                      {name(g.group)}
                    </th>
                    <td>{fmtInt(g.totals.requests)}</td>
                    <td>{fmtInt(g.totals.prompt_tokens)}</td>
                    <td>{fmtInt(g.totals.cached_tokens)}</td>
                    <td>{fmtInt(g.totals.completion_tokens)}</td>
                    <td>{money(g.totals.cost_micros)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableWrap>
        </>
      )}
    </div>
  );
}

export function DateRange(props: {
  from: string;
  to: string;
  onChange: (from: string, to: string) => void;
  onRefresh: () => void;
}) {
  const { t } = useI18n();
  return (
    <div className="toolbar">
      <Field label={t('from')}>
        {(id) => <input id={id} type="date" value={props.from} max={props.to} onChange={(e) => props.onChange(e.target.value, props.to)} />}
      </Field>
      <Field label={t('to')}>
        {(id) => <input id={id} type="date" value={props.to} min={props.from} onChange={(e) => props.onChange(props.from, e.target.value)} />}
      </Field>
      <button type="button" onClick={props.onRefresh} data-testid="usage-refresh">
        {t('refresh')}
      </button>
    </div>
  );
}
