import { useEffect, useMemo, useState } from 'react';
import { adminApi, tenantApi } from './api';
import { detectLang, LangContext, translator, type Lang, type MessageKey } from './i18n';
import { Billing } from './pages/Billing';
import { Keys } from './pages/Keys';
import { Login } from './pages/Login';
import { Overview } from './pages/Overview';
import { Playground } from './pages/Playground';
import { Tenants } from './pages/Tenants';
import { Usage } from './pages/Usage';
import { Workers } from './pages/Workers';
import { loadSession, saveSession, type Session } from './session';

const ADMIN_PAGES: [string, MessageKey][] = [
  ['tenants', 'navTenants'],
  ['keys', 'navKeys'],
  ['billing', 'navBilling'],
  ['usage', 'navUsage'],
  ['workers', 'navWorkers'],
];
const TENANT_PAGES: [string, MessageKey][] = [
  ['overview', 'navOverview'],
  ['playground', 'navPlayground'],
];

function readHash(): { page: string; params: URLSearchParams } {
  const h = window.location.hash.replace(/^#\/?/, '');
  const [page, query] = h.split('?');
  return { page: page || '', params: new URLSearchParams(query ?? '') };
}

export function App() {
  const [lang, setLangState] = useState<Lang>(() =>
    detectLang(localStorage.getItem('glm.console.lang'), navigator.languages ?? [navigator.language]),
  );
  const t = useMemo(() => translator(lang), [lang]);
  const [session, setSession] = useState<Session | null>(loadSession);
  const [route, setRoute] = useState(readHash);

  useEffect(() => {
    const on = () => setRoute(readHash());
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);

  useEffect(() => {
    document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
    document.title = t('appTitle');
  }, [lang, t]);

  const setLang = (l: Lang) => {
    localStorage.setItem('glm.console.lang', l);
    setLangState(l);
  };

  const pages = session?.kind === 'admin' ? ADMIN_PAGES : TENANT_PAGES;
  const page = pages.some(([p]) => p === route.page) ? route.page : pages[0][0];
  const admin = useMemo(() => (session?.kind === 'admin' ? adminApi(session.secret) : null), [session]);
  const tenant = useMemo(() => (session?.kind === 'tenant' ? tenantApi(session.secret) : null), [session]);

  function login(s: Session) {
    saveSession(s);
    setSession(s);
    window.location.hash = `#/${s.kind === 'admin' ? 'tenants' : 'overview'}`;
  }

  function logout() {
    saveSession(null);
    setSession(null);
    window.location.hash = '';
  }

  useEffect(() => {
    if (session) document.getElementById('main')?.focus({ preventScroll: true });
  }, [page, session]);

  return (
    <LangContext.Provider value={{ lang, t, setLang }}>
      <a className="skip-link" href="#main" onClick={(e) => { e.preventDefault(); document.getElementById('main')?.focus(); }}>
        {t('skipToContent')}
      </a>
      <header className="topbar">
        <span className="brand">{t('appTitle')}</span>
        <div className="topbar-right">
          <label htmlFor="lang-select" className="sr-only">
            {t('language')}
          </label>
          <select id="lang-select" value={lang} onChange={(e) => setLang(e.target.value as Lang)} data-testid="lang">
            <option value="zh" lang="zh-CN">
              中文
            </option>
            <option value="en" lang="en">
              English
            </option>
          </select>
          {session && (
            <>
              <span className="who-am-i">{t(session.kind === 'admin' ? 'signedInAdmin' : 'signedInTenant')}</span>
              <button type="button" onClick={logout} data-testid="logout">
                {t('signOut')}
              </button>
            </>
          )}
        </div>
      </header>
      {session && (
        <nav className="nav" aria-label={t('mainNav')}>
          <ul>
            {pages.map(([p, label]) => (
              <li key={p}>
                <a href={`#/${p}`} aria-current={p === page ? 'page' : undefined} data-testid={`nav-${p}`}>
                  {t(label)}
                </a>
              </li>
            ))}
          </ul>
        </nav>
      )}
      <main id="main" tabIndex={-1}>
        {!session && <Login onLogin={login} />}
        {admin && page === 'tenants' && <Tenants api={admin} />}
        {admin && page === 'keys' && (
          <Keys
            api={admin}
            tenantId={route.params.get('tenant')}
            onTenant={(id) => (window.location.hash = `#/keys?tenant=${encodeURIComponent(id)}`)}
          />
        )}
        {admin && page === 'billing' && <Billing api={admin} />}
        {admin && page === 'usage' && <Usage api={admin} />}
        {admin && page === 'workers' && <Workers api={admin} />}
        {tenant && page === 'overview' && <Overview api={tenant} />}
        {tenant && session && page === 'playground' && <Playground api={tenant} apiKey={session.secret} />}
      </main>
    </LangContext.Provider>
  );
}
