import { useEffect, useState } from 'react';
import type { AdminApi, Worker } from '../api';
import { useI18n } from '../i18n';
import { Notice, TableWrap } from '../components/ui';

/** The workers the gateway routes to, from their WatchLoad reports, refreshed every 3 s. */
export function Workers(props: { api: AdminApi }) {
  const { t } = useI18n();
  const [workers, setWorkers] = useState<Worker[] | null>(null);
  const [error, setError] = useState('');

  useEffect(() => {
    let alive = true;
    const load = () =>
      props.api
        .workers()
        .then((w) => {
          if (alive) {
            setWorkers(w);
            setError('');
          }
        })
        .catch((e) => alive && setError(`${t('requestFailed')}: ${(e as Error).message}`));
    load();
    const timer = setInterval(load, 3000);
    return () => {
      alive = false;
      clearInterval(timer);
    };
  }, [props.api, t]);

  const pct = (v: number | undefined) => (v === undefined ? t('none') : `${(v * 100).toFixed(1)} %`);
  return (
    <section aria-labelledby="workers-title">
      <h1 id="workers-title">{t('workersTitle')}</h1>
      <p className="muted">{t('autoRefresh')}</p>
      <Notice kind="error">{error}</Notice>
      {workers === null ? (
        <p>{t('loading')}</p>
      ) : workers.length === 0 ? (
        <p>{t('noWorkers')}</p>
      ) : (
        <TableWrap label={t('workersTitle')}>
          <table data-testid="workers-table">
            <caption>{t('workersTitle')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('worker')}</th>
                <th scope="col">{t('model')}</th>
                <th scope="col">{t('state')}</th>
                <th scope="col">{t('device')}</th>
                <th scope="col">{t('running')}</th>
                <th scope="col">{t('queueDepth')}</th>
                <th scope="col">{t('kvUse')}</th>
                <th scope="col">{t('tokensPerSecond')}</th>
                <th scope="col">{t('routable')}</th>
              </tr>
            </thead>
            <tbody>
              {workers.map((w) => (
                <tr key={w.address}>
                  <th scope="row" className="mono">
                    {w.worker_id}
                    <br />
                    <span className="muted">{w.address}</span>
                  </th>
                  <td>{w.model ?? t('none')}</td>
                  <td>
                    <span className={`badge badge-${w.state.toLowerCase()}`}>{w.state}</span>
                  </td>
                  <td>{w.device ?? t('none')}</td>
                  <td>{w.num_running ?? t('none')}</td>
                  <td>{w.num_waiting ?? t('none')}</td>
                  <td>
                    <meter min={0} max={1} value={w.kv_cache_usage ?? 0} aria-label={`${t('kvUse')} ${w.worker_id}`} />{' '}
                    {pct(w.kv_cache_usage)}
                  </td>
                  <td>{w.decode_tokens_per_second === undefined ? t('none') : w.decode_tokens_per_second.toFixed(1)}</td>
                  <td>{w.routable ? t('yes') : t('no')}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      )}
    </section>
  );
}
