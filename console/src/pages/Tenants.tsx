import { useCallback, useEffect, useState, type FormEvent } from 'react';
import type { AdminApi, Tenant } from '../api';
import { useI18n, type MessageKey } from '../i18n';
import { fmtDate, limitsOf, LimitsFields, Notice, TextField, TableWrap } from '../components/ui';

const noLimits = { rpm: '', tpm: '', conc: '' };

export function Tenants(props: { api: AdminApi }) {
  const { t } = useI18n();
  const [tenants, setTenants] = useState<Tenant[] | null>(null);
  const [error, setError] = useState('');
  const [ok, setOk] = useState('');
  const [name, setName] = useState('');
  const [limits, setLimits] = useState(noLimits);
  const [editing, setEditing] = useState<string | null>(null);
  const [editLimits, setEditLimits] = useState(noLimits);

  const load = useCallback(async () => {
    try {
      setTenants(await props.api.tenants());
    } catch (e) {
      setError(`${t('requestFailed')}: ${(e as Error).message}`);
    }
  }, [props.api, t]);

  useEffect(() => {
    load();
  }, [load]);

  async function act(f: () => Promise<unknown>, message: string) {
    setError('');
    setOk('');
    try {
      await f();
      setOk(message);
      await load();
    } catch (e) {
      setError(`${t('requestFailed')}: ${(e as Error).message}`);
    }
  }

  function create(e: FormEvent) {
    e.preventDefault();
    const n = name.trim();
    act(() => props.api.createTenant(n, limitsOf(limits)), t('tenantCreated', { name: n })).then(() => {
      setName('');
      setLimits(noLimits);
    });
  }

  const lim = (n: number) => (n === 0 ? t('unlimited') : n.toLocaleString('en-US'));

  return (
    <section aria-labelledby="tenants-title">
      <h1 id="tenants-title">{t('tenantsTitle')}</h1>
      <Notice kind="error">{error}</Notice>
      <Notice kind="ok" testId="tenants-ok">
        {ok}
      </Notice>
      <form className="card form-grid" onSubmit={create} aria-labelledby="new-tenant-title">
        <h2 id="new-tenant-title">{t('newTenant')}</h2>
        <TextField label={t('name')} value={name} onChange={setName} required testId="tenant-name" />
        <LimitsFields value={limits} onChange={setLimits} />
        <button type="submit" className="primary" disabled={name.trim() === ''} data-testid="tenant-create">
          {t('create')}
        </button>
      </form>
      {tenants === null ? (
        <p>{t('loading')}</p>
      ) : tenants.length === 0 ? (
        <p>{t('noTenants')}</p>
      ) : (
        <TableWrap label={t('tenantsTitle')}>
          <table data-testid="tenants-table">
            <caption>{t('tenantsTitle')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('name')}</th>
                <th scope="col">{t('id')}</th>
                <th scope="col">{t('status')}</th>
                <th scope="col">{t('rpm')}</th>
                <th scope="col">{t('tpm')}</th>
                <th scope="col">{t('concurrency')}</th>
                <th scope="col">{t('created')}</th>
                <th scope="col">{t('actions')}</th>
              </tr>
            </thead>
            <tbody>
              {tenants.map((x) => (
                <tr key={x.id}>
                  <th scope="row">{x.name}</th>
                  <td className="mono">{x.id}</td>
                  <td>
                    <span className={`badge badge-${x.status.toLowerCase()}`}>{t(`status${x.status}` as MessageKey)}</span>
                  </td>
                  <td>{lim(x.requests_per_minute)}</td>
                  <td>{lim(x.tokens_per_minute)}</td>
                  <td>{lim(x.max_concurrency)}</td>
                  <td>{fmtDate(x.created_at, t('none'))}</td>
                  <td className="row-actions">
                    <button
                      type="button"
                      aria-label={`${t(x.status === 'ACTIVE' ? 'suspend' : 'activate')} ${x.name}`}
                      onClick={() =>
                        act(
                          () => props.api.patchTenant(x.id, { status: x.status === 'ACTIVE' ? 'SUSPENDED' : 'ACTIVE' }),
                          t('saved'),
                        )
                      }
                    >
                      {t(x.status === 'ACTIVE' ? 'suspend' : 'activate')}
                    </button>
                    <button
                      type="button"
                      aria-label={`${t('edit')} ${t('limits')} ${x.name}`}
                      aria-expanded={editing === x.id}
                      onClick={() => {
                        setEditing(editing === x.id ? null : x.id);
                        setEditLimits({
                          rpm: String(x.requests_per_minute),
                          tpm: String(x.tokens_per_minute),
                          conc: String(x.max_concurrency),
                        });
                      }}
                    >
                      {t('edit')}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      )}
      {editing && tenants && (
        <form
          className="card form-grid"
          aria-labelledby="edit-limits-title"
          onSubmit={(e) => {
            e.preventDefault();
            const id = editing;
            act(() => props.api.patchTenant(id, limitsOf(editLimits)), t('saved')).then(() => setEditing(null));
          }}
        >
          <h2 id="edit-limits-title">{t('editLimitsOf', { name: tenants.find((x) => x.id === editing)?.name ?? '' })}</h2>
          <LimitsFields value={editLimits} onChange={setEditLimits} />
          <div className="buttons">
            <button type="submit" className="primary">
              {t('save')}
            </button>
            <button type="button" onClick={() => setEditing(null)}>
              {t('cancel')}
            </button>
          </div>
        </form>
      )}
    </section>
  );
}
