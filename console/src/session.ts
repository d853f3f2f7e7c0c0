/** Who is signed in. Kept in sessionStorage only: closing the tab forgets the token or key. */
export interface Session {
  kind: 'admin' | 'tenant';
  secret: string;
}

const KEY = 'glm.console.session';

export function loadSession(): Session | null {
  try {
    const s = JSON.parse(sessionStorage.getItem(KEY) ?? 'null');
    return s && (s.kind === 'admin' || s.kind === 'tenant') && typeof s.secret === 'string' ? s : null;
  } catch {
    return null;
  }
}

export function saveSession(s: Session | null) {
  if (s) sessionStorage.setItem(KEY, JSON.stringify(s));
  else sessionStorage.removeItem(KEY);
}
