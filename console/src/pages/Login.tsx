import { useState, type FormEvent } from 'react';
import { adminApi, ApiError, tenantApi } from '../api';
import { useI18n } from '../i18n';
import { Notice, TextField } from '../components/ui';
import type { Session } from '../session';

/** Two ways in: the gateway's admin token, or a tenant's API key. Checked against the gateway. */
export function Login(props: { onLogin: (s: Session) => void }) {
  const { t } = useI18n();
  const [kind, setKind] = useState<'admin' | 'tenant'>('admin');
  const [secret, setSecret] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError('');
    const value = secret.trim();
    try {
      if (kind === 'admin') {
        await adminApi(value).workers();
        props.onLogin({ kind: 'admin', secret: value });
      } else {
        await tenantApi(value).models();
        props.onLogin({ kind: 'tenant', secret: value });
      }
    } catch (err) {
      const refused = err instanceof ApiError && (err.status === 401 || err.status === 403);
      setError(refused ? t(kind === 'admin' ? 'invalidAdminToken' : 'invalidApiKey') : `${t('requestFailed')}: ${String((err as Error).message)}`);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="login card" aria-labelledby="login-title">
      <h1 id="login-title">{t('loginTitle')}</h1>
      <div className="tabs" role="radiogroup" aria-label={t('loginTitle')}>
        {(['admin', 'tenant'] as const).map((k) => (
          <label key={k} className={kind === k ? 'tab active' : 'tab'}>
            <input
              type="radio"
              name="login-kind"
              value={k}
              checked={kind === k}
              onChange={() => {
                setKind(k);
                setError('');
              }}
            />
            {t(k === 'admin' ? 'loginAdminTab' : 'loginTenantTab')}
          </label>
        ))}
      </div>
      <form onSubmit={submit}>
        <TextField
          label={t(kind === 'admin' ? 'adminToken' : 'apiKey')}
          help={t(kind === 'admin' ? 'adminTokenHelp' : 'apiKeyHelp')}
          type="password"
          autoComplete="off"
          value={secret}
          required
          testId="login-secret"
          onChange={setSecret}
        />
        <button type="submit" className="primary" disabled={busy || secret.trim() === ''} data-testid="login-submit">
          {busy ? t('signingIn') : t('signIn')}
        </button>
      </form>
      <Notice kind="error" testId="login-error">
        {error}
      </Notice>
    </section>
  );
}
