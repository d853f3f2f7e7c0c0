import { useId, useState, type ReactNode } from 'react';
import { useI18n } from '../i18n';

/** A status line read out by screen readers: errors assertively, the rest politely. */
export function Notice(props: { kind: 'error' | 'ok' | 'info'; children: ReactNode; testId?: string }) {
  if (!props.children) return null;
  return (
    <div
      className={`notice notice-${props.kind}`}
      role={props.kind === 'error' ? 'alert' : 'status'}
      data-testid={props.testId}
    >
      {props.children}
    </div>
  );
}

export function Field(props: {
  label: string;
  help?: string;
  children: (id: string, describedBy: string | undefined) => ReactNode;
}) {
  const id = useId();
  const helpId = props.help ? `${id}-help` : undefined;
  return (
    <div className="field">
      <label htmlFor={id}>{props.label}</label>
      {props.children(id, helpId)}
      {props.help && (
        <small id={helpId} className="help">
          {props.help}
        </small>
      )}
    </div>
  );
}

export function TextField(props: {
  label: string;
  value: string;
  onChange: (v: string) => void;
  help?: string;
  type?: string;
  required?: boolean;
  autoComplete?: string;
  testId?: string;
  min?: number;
  max?: number;
  step?: number | string;
}) {
  return (
    <Field label={props.label} help={props.help}>
      {(id, describedBy) => (
        <input
          id={id}
          type={props.type ?? 'text'}
          value={props.value}
          required={props.required}
          autoComplete={props.autoComplete ?? 'off'}
          aria-describedby={describedBy}
          data-testid={props.testId}
          min={props.min}
          max={props.max}
          step={props.step}
          onChange={(e) => props.onChange(e.target.value)}
        />
      )}
    </Field>
  );
}

export function LimitsFields(props: {
  value: { rpm: string; tpm: string; conc: string };
  onChange: (v: { rpm: string; tpm: string; conc: string }) => void;
}) {
  const { t } = useI18n();
  const v = props.value;
  return (
    <fieldset className="limits">
      <legend>
        {t('limits')} <small>({t('limitsHelp')})</small>
      </legend>
      <TextField label={t('rpm')} type="number" min={0} value={v.rpm} onChange={(rpm) => props.onChange({ ...v, rpm })} />
      <TextField label={t('tpm')} type="number" min={0} value={v.tpm} onChange={(tpm) => props.onChange({ ...v, tpm })} />
      <TextField
        label={t('concurrency')}
        type="number"
        min={0}
        value={v.conc}
        onChange={(conc) => props.onChange({ ...v, conc })}
      />
    </fieldset>
  );
}

export function limitsOf(v: { rpm: string; tpm: string; conc: string }) {
  const n = (s: string) => (s.trim() === '' ? 0 : Math.max(0, Math.trunc(Number(s)) || 0));
  return { requests_per_minute: n(v.rpm), tokens_per_minute: n(v.tpm), max_concurrency: n(v.conc) };
}

/** A read-only secret with a copy button (the clipboard API, else selecting the text). */
export function CopyField(props: { label: string; value: string; testId?: string; multiline?: boolean }) {
  const { t } = useI18n();
  const id = useId();
  const [note, setNote] = useState<{ ok: boolean; text: string } | null>(null);
  async function copy() {
    try {
      await navigator.clipboard.writeText(props.value);
      setNote({ ok: true, text: t('copied') });
    } catch {
      const el = document.getElementById(id) as HTMLInputElement | HTMLTextAreaElement | null;
      el?.select();
      const ok = document.execCommand?.('copy') ?? false;
      setNote({ ok, text: ok ? t('copied') : t('copyFailed') });
    }
  }
  return (
    <div className="copy-field">
      <label htmlFor={id}>{props.label}</label>
      <div className="copy-row">
        {props.multiline ? (
          <textarea id={id} readOnly value={props.value} data-testid={props.testId} rows={8} spellCheck={false} />
        ) : (
          <input id={id} readOnly value={props.value} data-testid={props.testId} spellCheck={false} />
        )}
        <button type="button" onClick={copy} aria-describedby={id}>
          {t('copy')}
        </button>
      </div>
      <span role="status" className={note?.ok === false ? 'error-text' : 'ok-text'}>
        {note?.text ?? ''}
      </span>
    </div>
  );
}

export function fmtDate(iso: string | null | undefined, none: string): string {
  if (!iso) return none;
  return iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z').replace(/:\d\dZ$/, 'Z');
}

export function fmtInt(n: number | undefined): string {
  return n === undefined ? '—' : n.toLocaleString('en-US');
}

/** A wide table's scroll box: a labelled region that takes focus, so keyboards can scroll it. */
export function TableWrap(props: { label: string; children: ReactNode }) {
  const { t } = useI18n();
  return (
    <div className="table-wrap" tabIndex={0} role="region" aria-label={t('tableOf', { name: props.label })}>
      {props.children}
    </div>
  );
}
