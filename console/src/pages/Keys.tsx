import { useCallback, useEffect, useState, type FormEvent } from 'react';
import type { AdminApi, CreatedKey, Key, Tenant } from '../api';
import { useI18n, type MessageKey } from '../i18n';
import { CopyField, Field, fmtDate, limitsOf, LimitsFields, Notice, TextField, TableWrap } from '../components/ui';

const noLimits = { rpm: '', tpm: '', conc: '' };

/** "2027-01-31T08:00" typed in a datetime-local field (taken as UTC) to ISO-8601, or null. */
function expiry(local: string): string | null {
  return local.trim() === '' ? null : `${local.length === 16 ? `${local}:00` : local}Z`;
}

function models(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

export function Keys(props: { api: AdminApi; tenantId: string | null; onTenant: (id: string) => void }) {
  const { t } = useI18n();
  const [tenants, setTenants] = useState<Tenant[]>([]);
  const [keys, setKeys] = useState<Key[] | null>(null);
  const [knownModels, setKnownModels] = useState<string[]>([]);
  const [error, setError] = useState('');
  const [ok, setOk] = useState('');
  const [created, setCreated] = useState<CreatedKey | null>(null);
  const [name, setName] = useState('');
  const [scope, setScope] = useState('');
  const [expires, setExpires] = useState('');
  const [limits, setLimits] = useState(noLimits);
  const [confirming, setConfirming] = useState<string | null>(null);
  const [editing, setEditing] = useState<Key | null>(null);
  const [edit, setEdit] = useState({ scope: '', expires: '', limits: noLimits });
  const tenantId = props.tenantId ?? tenants[0]?.id ?? null;

  useEffect(() => {
    props.api
      .tenants()
      .then(setTenants)
      .catch((e) => setError(`${t('requestFailed')}: ${(e as Error).message}`));
    props.api
      .workers()
      .then((ws) => setKnownModels([...new Set(ws.map((w) => w.model).filter((m): m is string => !!m))]))
      .catch(() => setKnownModels([]));
  }, [props.api, t]);

  const load = useCallback(async () => {
    if (!tenantId) return;
    try {
      setKeys(await props.api.keys(tenantId));
    } catch (e) {
      setError(`${t('requestFailed')}: ${(e as Error).message}`);
    }
  }, [props.api, tenantId, t]);

  useEffect(() => {
    setKeys(null);
    load();
  }, [load]);

  async function act<R>(f: () => Promise<R>, message: (r: R) => string): Promise<R | null> {
    setError('');
    setOk('');
    try {
      const r = await f();
      setOk(message(r));
      await load();
      return r;
    } catch (e) {
      setError(`${t('requestFailed')}: ${(e as Error).message}`);
      return null;
    }
  }

  async function create(e: FormEvent) {
    e.preventDefault();
    if (!tenantId) return;
    const body = { name: name.trim(), allowed_models: models(scope), expires_at: expiry(expires), ...limitsOf(limits) };
    const r = await act(() => props.api.createKey(tenantId, body), () => '');
    if (r) {
      setCreated(r);
      setName('');
      setScope('');
      setExpires('');
      setLimits(noLimits);
    }
  }

  const lim = (k: Key) =>
    [k.requests_per_minute, k.tokens_per_minute, k.max_concurrency].every((n) => n === 0)
      ? t('unlimited')
      : `${k.requests_per_minute || '∞'} rpm · ${k.tokens_per_minute || '∞'} tpm · ${k.max_concurrency || '∞'}`;

  return (
    <section aria-labelledby="keys-title">
      <h1 id="keys-title">{t('keysTitle')}</h1>
      <Notice kind="error" testId="keys-error">
        {error}
      </Notice>
      <Notice kind="ok" testId="keys-ok">
        {ok}
      </Notice>
      <Field label={t('tenant')}>
        {(id) => (
          <select id={id} value={tenantId ?? ''} onChange={(e) => props.onTenant(e.target.value)} data-testid="keys-tenant">
            {tenants.length === 0 && <option value="">{t('chooseTenant')}</option>}
            {tenants.map((x) => (
              <option key={x.id} value={x.id}>
                {x.name} ({x.id})
              </option>
            ))}
          </select>
        )}
      </Field>

      {created && (
        <div className="card secret" role="region" aria-labelledby="secret-title" data-testid="secret-panel">
          <h2 id="secret-title">{t('secretTitle')}</h2>
          <p className="warning">{t('secretWarning')}</p>
          <CopyField label={t('secretLabel')} value={created.api_key} testId="secret-value" />
          <button type="button" className="primary" onClick={() => setCreated(null)} data-testid="secret-done">
            {t('done')}
          </button>
        </div>
      )}

      <form className="card form-grid" onSubmit={create} aria-labelledby="new-key-title">
        <h2 id="new-key-title">{t('newKey')}</h2>
        <TextField label={t('keyName')} value={name} onChange={setName} required testId="key-name" />
        <Field label={t('allowedModels')} help={t('allowedModelsHelp')}>
          {(id, d) => (
            <>
              <input id={id} value={scope} list={`${id}-models`} aria-describedby={d} onChange={(e) => setScope(e.target.value)} />
              <datalist id={`${id}-models`}>
                {knownModels.map((m) => (
                  <option key={m} value={m} />
                ))}
              </datalist>
            </>
          )}
        </Field>
        <TextField label={t('expiresAt')} help={t('expiresHelp')} type="datetime-local" value={expires} onChange={setExpires} />
        <LimitsFields value={limits} onChange={setLimits} />
        <button type="submit" className="primary" disabled={!tenantId || name.trim() === ''} data-testid="key-create">
          {t('create')}
        </button>
      </form>

      {keys === null ? (
        <p>{t('loading')}</p>
      ) : keys.length === 0 ? (
        <p>{t('noKeys')}</p>
      ) : (
        <TableWrap label={t('keysTitle')}>
          <table data-testid="keys-table">
            <caption>{t('keysTitle')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('name')}</th>
                <th scope="col">{t('keyId')}</th>
                <th scope="col">{t('status')}</th>
                <th scope="col">{t('models')}</th>
                <th scope="col">{t('limits')}</th>
                <th scope="col">{t('expires')}</th>
                <th scope="col">{t('lastUsed')}</th>
                <th scope="col">{t('actions')}</th>
              </tr>
            </thead>
            <tbody>
              {keys.map((k) => (
                <tr key={k.key_id} data-key-id={k.key_id}>
                  <th scope="row">{k.name}</th>
                  <td className="mono">{k.key_id}</td>
                  <td>
                    <span className={`badge badge-${k.status.toLowerCase()}`} data-testid="key-status">
                      {t(`status${k.status}` as MessageKey)}
                    </span>
                  </td>
                  <td>{k.allowed_models.length === 0 ? t('allModels') : k.allowed_models.join(', ')}</td>
                  <td>{lim(k)}</td>
                  <td>{fmtDate(k.expires_at, t('never'))}</td>
                  <td>{fmtDate(k.last_used_at, t('none'))}</td>
                  <td className="row-actions">
                    {k.status !== 'REVOKED' && (
                      <>
                        <button
                          type="button"
                          aria-label={`${t('edit')} ${k.name}`}
                          onClick={() => {
                            setEditing(k);
                            setEdit({
                              scope: k.allowed_models.join(', '),
                              expires: k.expires_at ? k.expires_at.slice(0, 16) : '',
                              limits: {
                                rpm: String(k.requests_per_minute),
                                tpm: String(k.tokens_per_minute),
                                conc: String(k.max_concurrency),
                              },
                            });
                          }}
                        >
                          {t('edit')}
                        </button>
                        {confirming === k.key_id ? (
                          <button
                            type="button"
                            className="danger"
                            data-testid="key-revoke-confirm"
                            onClick={() => {
                              setConfirming(null);
                              act(() => props.api.revokeKey(k.key_id), () => t('revoked', { id: k.key_id }));
                            }}
                          >
                            {t('confirmRevoke')}
                          </button>
                        ) : (
                          <button
                            type="button"
                            className="danger-outline"
                            aria-label={`${t('revoke')} ${k.name}`}
                            data-testid="key-revoke"
                            onClick={() => setConfirming(k.key_id)}
                          >
                            {t('revoke')}
                          </button>
                        )}
                      </>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      )}

      {editing && (
        <form
          className="card form-grid"
          aria-labelledby="edit-key-title"
          onSubmit={(e) => {
            e.preventDefault();
            const k = editing;
            act(
              () =>
                props.api.patchKey(k.key_id, {
                  allowed_models: models(edit.scope),
                  expires_at: expiry(edit.expires),
                  ...limitsOf(edit.limits),
                }),
              () => t('saved'),
            ).then((r) => r && setEditing(null));
          }}
        >
          <h2 id="edit-key-title">{t('editKey', { name: editing.name })}</h2>
          <TextField
            label={t('allowedModels')}
            help={t('allowedModelsHelp')}
            value={edit.scope}
            onChange={(scope) => setEdit({ ...edit, scope })}
          />
          <TextField
            label={t('expiresAt')}
            help={t('expiresHelp')}
            type="datetime-local"
            value={edit.expires}
            onChange={(expires) => setEdit({ ...edit, expires })}
          />
          <LimitsFields value={edit.limits} onChange={(limits) => setEdit({ ...edit, limits })} />
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
