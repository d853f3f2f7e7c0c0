import { useEffect, useMemo, useRef, useState, type FormEvent } from 'react';
import { errorMessage, type TenantApi } from '../api';
import { useI18n } from '../i18n';
import { CopyField, Field, Notice, TextField } from '../components/ui';
import { curl, javascript, python, requestBody, type PlaygroundRequest } from '../snippets';
import { readChunk, SseParser } from '../sse';

const CODE_TABS = { curl: 'curl', python: 'Python (openai)', javascript: 'JavaScript (openai)' } as const;

interface Turn {
  role: 'user' | 'assistant';
  content: string;
  toolCalls?: unknown[];
}

function parseTools(text: string): unknown[] | null | 'invalid' {
  if (text.trim() === '') return null;
  try {
    const v = JSON.parse(text);
    return Array.isArray(v) && v.every((x) => x && typeof x === 'object') ? v : 'invalid';
  } catch {
    return 'invalid';
  }
}

/** Chat with a model through /v1/chat/completions with the tenant's key, streamed as it comes. */
export function Playground(props: { api: TenantApi; apiKey: string }) {
  const { t } = useI18n();
  const [models, setModels] = useState<string[] | null>(null);
  const [model, setModel] = useState('');
  const [system, setSystem] = useState('');
  const [message, setMessage] = useState('');
  const [temperature, setTemperature] = useState('0.7');
  const [topP, setTopP] = useState('0.9');
  const [maxTokens, setMaxTokens] = useState('256');
  const [stream, setStream] = useState(true);
  const [tools, setTools] = useState('');
  const [turns, setTurns] = useState<Turn[]>([]);
  const [answer, setAnswer] = useState<Turn | null>(null);
  const [meta, setMeta] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const [codeTab, setCodeTab] = useState<'curl' | 'python' | 'javascript'>('curl');
  const abort = useRef<AbortController | null>(null);

  useEffect(() => {
    props.api
      .models()
      .then((m) => {
        setModels(m);
        setModel((cur) => cur || m[0] || '');
      })
      .catch((e) => setError(`${t('requestFailed')}: ${(e as Error).message}`));
  }, [props.api, t]);

  const parsedTools = parseTools(tools);
  const request: PlaygroundRequest = useMemo(() => {
    const messages: { role: string; content: string }[] = [];
    if (system.trim()) messages.push({ role: 'system', content: system });
    for (const x of turns) messages.push({ role: x.role, content: x.content });
    messages.push({ role: 'user', content: message });
    return {
      model,
      messages,
      temperature: Number(temperature),
      top_p: Number(topP),
      max_tokens: Math.trunc(Number(maxTokens)),
      stream,
      tools: Array.isArray(parsedTools) ? parsedTools : undefined,
    };
  }, [model, system, turns, message, temperature, topP, maxTokens, stream, parsedTools]);

  async function send(e: FormEvent) {
    e.preventDefault();
    if (parsedTools === 'invalid') {
      setError(t('toolsInvalid'));
      return;
    }
    setError('');
    setMeta('');
    setBusy(true);
    const ctrl = new AbortController();
    abort.current = ctrl;
    const sent = request;
    const current: Turn = { role: 'assistant', content: '', toolCalls: [] };
    setAnswer({ ...current });
    try {
      const res = await fetch('/v1/chat/completions', {
        method: 'POST',
        headers: {
          Authorization: `Bearer ${props.apiKey}`,
          'Content-Type': 'application/json',
          Accept: sent.stream ? 'text/event-stream' : 'application/json',
        },
        body: JSON.stringify(requestBody(sent)),
        signal: ctrl.signal,
      });
      if (!res.ok) {
        throw new Error(errorMessage(res.status, await res.text()));
      }
      let finish = '';
      let usage: { prompt_tokens: number; completion_tokens: number } | null = null;
      const apply = (data: string) => {
        const d = readChunk(data);
        if (d === 'done') return;
        if (d.error) throw new Error(d.error);
        current.content += d.content;
        if (d.toolCalls.length > 0) current.toolCalls = [...(current.toolCalls ?? []), ...d.toolCalls];
        if (d.finishReason) finish = d.finishReason;
        if (d.usage) usage = d.usage;
        setAnswer({ ...current });
      };
      if (sent.stream && res.body) {
        const parser = new SseParser();
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          parser.push(value).forEach(apply);
        }
        parser.end().forEach(apply);
      } else {
        apply(await res.text());
      }
      const u = usage as { prompt_tokens: number; completion_tokens: number } | null;
      setMeta(
        [
          u ? t('usageLine', { prompt: u.prompt_tokens, completion: u.completion_tokens }) : '',
          finish ? t('finishReason', { reason: finish }) : '',
        ]
          .filter(Boolean)
          .join(' · '),
      );
      setTurns([...turns, { role: 'user', content: message }, { ...current }]);
      setAnswer(null);
      setMessage('');
    } catch (err) {
      if ((err as Error).name !== 'AbortError') {
        setError(`${t('requestFailed')}: ${(err as Error).message}`);
      }
      setAnswer(null);
    } finally {
      setBusy(false);
      abort.current = null;
    }
  }

  const base = window.location.origin;
  const code =
    codeTab === 'curl' ? curl(base, request) : codeTab === 'python' ? python(base, request) : javascript(base, request);
  const shown = answer ? [...turns, { role: 'user' as const, content: request.messages.at(-1)?.content ?? '' }, answer] : turns;

  return (
    <section aria-labelledby="playground-title" className="playground">
      <h1 id="playground-title">{t('playgroundTitle')}</h1>
      <form onSubmit={send} className="play-grid">
        <div className="card settings">
          <Field label={t('model')}>
            {(id) => (
              <select id={id} value={model} onChange={(e) => setModel(e.target.value)} data-testid="play-model">
                {(models ?? []).map((m) => (
                  <option key={m} value={m}>
                    {m}
                  </option>
                ))}
              </select>
            )}
          </Field>
          {models !== null && models.length === 0 && <p>{t('noModels')}</p>}
          <Field label={t('systemPrompt')}>
            {(id) => <textarea id={id} rows={3} value={system} onChange={(e) => setSystem(e.target.value)} />}
          </Field>
          <div className="row3">
            <TextField label={t('temperature')} type="number" min={0} max={2} step="0.1" value={temperature} onChange={setTemperature} />
            <TextField label={t('topP')} type="number" min={0} max={1} step="0.05" value={topP} onChange={setTopP} />
            <TextField label={t('maxTokens')} type="number" min={1} step={1} value={maxTokens} onChange={setMaxTokens} testId="play-max-tokens" />
          </div>
          <div className="check">
            <input id="play-stream" type="checkbox" checked={stream} onChange={(e) => setStream(e.target.checked)} />
            <label htmlFor="play-stream">{t('stream')}</label>
          </div>
          <Field label={t('toolsJson')}>
            {(id) => (
              <textarea
                id={id}
                rows={4}
                className="mono"
                spellCheck={false}
                value={tools}
                aria-invalid={parsedTools === 'invalid'}
                placeholder='[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}]'
                onChange={(e) => setTools(e.target.value)}
              />
            )}
          </Field>
        </div>
        <div className="card chat">
          <h2>{t('conversation')}</h2>
          <ol className="turns" aria-live="polite" data-testid="play-output">
            {shown.map((x, i) => (
              <li key={i} className={`turn turn-${x.role}`}>
                <span className="who">{x.role === 'user' ? t('you') : t('assistant')}</span>
                <div className="text">{x.content || (answer && i === shown.length - 1 ? t('generating') : '')}</div>
                {x.toolCalls && x.toolCalls.length > 0 && (
                  <details open>
                    <summary>{t('toolCalls')}</summary>
                    <pre className="mono">{JSON.stringify(x.toolCalls, null, 2)}</pre>
                  </details>
                )}
              </li>
            ))}
          </ol>
          <p className="muted" data-testid="play-meta">
            {meta}
          </p>
          <Notice kind="error" testId="play-error">
            {error}
          </Notice>
          <Field label={t('userMessage')}>
            {(id) => (
              <textarea
                id={id}
                rows={3}
                value={message}
                data-testid="play-message"
                onChange={(e) => setMessage(e.target.value)}
                onKeyDown={(e) => {
                  if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) (e.currentTarget.form as HTMLFormElement)?.requestSubmit();
                }}
              />
            )}
          </Field>
          <div className="buttons">
            <button type="submit" className="primary" disabled={busy || !model || message.trim() === ''} data-testid="play-send">
              {t('send')}
            </button>
            {busy && (
              <button type="button" onClick={() => abort.current?.abort()}>
                {t('stop')}
              </button>
            )}
            <button
              type="button"
              disabled={busy || turns.length === 0}
              onClick={() => {
                setTurns([]);
                setMeta('');
              }}
            >
              {t('clear')}
            </button>
          </div>
        </div>
      </form>
      <div className="card code">
        <h2>{t('code')}</h2>
        <div className="tabs" role="tablist" aria-label={t('code')}>
          {(['curl', 'python', 'javascript'] as const).map((k) => (
            <button
              key={k}
              type="button"
              role="tab"
              id={`code-tab-${k}`}
              aria-selected={codeTab === k}
              aria-controls="code-panel"
              tabIndex={codeTab === k ? 0 : -1}
              className={codeTab === k ? 'tab active' : 'tab'}
              onClick={() => setCodeTab(k)}
              onKeyDown={(e) => {
                const order = ['curl', 'python', 'javascript'] as const;
                const i = order.indexOf(k);
                const next =
                  e.key === 'ArrowRight' ? order[(i + 1) % 3] : e.key === 'ArrowLeft' ? order[(i + 2) % 3] : null;
                if (next) {
                  setCodeTab(next);
                  document.getElementById(`code-tab-${next}`)?.focus();
                }
              }}
            >
              {CODE_TABS[k]}
            </button>
          ))}
        </div>
        <div id="code-panel" role="tabpanel" aria-labelledby={`code-tab-${codeTab}`}>
          <CopyField label={CODE_TABS[codeTab]} value={code} multiline testId="play-code" />
        </div>
      </div>
    </section>
  );
}
