import { describe, expect, it } from 'vitest';
import { errorMessage } from './api';
import { detectLang, MESSAGES, translator } from './i18n';
import { curl, javascript, python } from './snippets';
import { readChunk, SseParser } from './sse';
import { formatMicros, groupRows, parseAmount, toCsv, tokensPerDay, type TenantUsageRow } from './usage';

const row = (over: Partial<TenantUsageRow>): TenantUsageRow => ({
  date: '2026-12-01',
  tenant: 'acme',
  model: 'glm-demo',
  key_id: 'k1',
  requests: 1,
  prompt_tokens: 10,
  cached_tokens: 0,
  completion_tokens: 5,
  cost_micros: 150,
  ...over,
});

describe('SSE', () => {
  it('joins events split across arbitrary chunks', () => {
    const p = new SseParser();
    const s = 'data: {"a":1}\n\n: comment\ndata: {"b":\r\ndata: 2}\r\n\r\ndata: [DONE]\n\n';
    const out: string[] = [];
    for (let i = 0; i < s.length; i += 3) out.push(...p.push(s.slice(i, i + 3)));
    out.push(...p.end());
    expect(out).toEqual(['{"a":1}', '{"b":\n2}', '[DONE]']);
  });

  it('reads content, tool calls, usage and errors from chunks', () => {
    const d = readChunk(
      '{"choices":[{"delta":{"content":"Hi","tool_calls":[{"id":"c1"}]},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":4}}',
    );
    expect(d).toMatchObject({ content: 'Hi', finishReason: 'stop', usage: { prompt_tokens: 3, completion_tokens: 4 } });
    expect(d !== 'done' && d.toolCalls).toHaveLength(1);
    expect(readChunk('[DONE]')).toBe('done');
    expect(readChunk('{"error":{"message":"boom"}}')).toMatchObject({ error: 'boom' });
  });
});

describe('usage', () => {
  const rows = [
    row({}),
    row({ date: '2026-12-02', model: 'glm-4', prompt_tokens: 100, completion_tokens: 1, cost_micros: 1_000_000 }),
    row({ date: '2026-12-02', tenant: 'beta', key_id: 'k2' }),
  ];

  it('groups and stacks tokens per day', () => {
    expect(groupRows(rows, 'tenant').map((g) => [g.group, g.totals.prompt_tokens])).toEqual([
      ['acme', 110],
      ['beta', 10],
    ]);
    const c = tokensPerDay(rows, '2026-11-30', '2026-12-02', 'model');
    expect(c.days).toEqual(['2026-11-30', '2026-12-01', '2026-12-02']);
    expect(c.series).toEqual([
      { name: 'glm-4', data: [0, 0, 101] },
      { name: 'glm-demo', data: [0, 15, 15] },
    ]);
  });

  it('exports CSV with exact money and no spreadsheet formulas', () => {
    const csv = toCsv([row({ tenant: '=HYPERLINK("x")', cost_micros: 1_234_567 })], 'CNY');
    expect(csv.split('\r\n')[0]).toBe(
      'date,tenant,key_id,model,requests,prompt_tokens,cached_tokens,completion_tokens,cost_micros,cost_CNY',
    );
    expect(csv.split('\r\n')[1]).toBe('2026-12-01,"\'=HYPERLINK(""x"")",k1,glm-demo,1,10,0,5,1234567,1.234567');
  });

  it('formats and parses money in micro-units', () => {
    expect(formatMicros(100_000_000)).toBe('100.000000');
    expect(formatMicros(-5)).toBe('-0.000005');
    expect(parseAmount('12.5')).toBe(12_500_000);
    expect(parseAmount('0.000001')).toBe(1);
    expect(parseAmount('0')).toBeNull();
    expect(parseAmount('1.0000001')).toBeNull();
    expect(parseAmount('-3')).toBeNull();
  });
});

describe('i18n', () => {
  it('is Chinese first when the browser asks for it', () => {
    expect(detectLang(null, ['zh-CN', 'en'])).toBe('zh');
    expect(detectLang(null, ['en-US', 'zh'])).toBe('en');
    expect(detectLang('en', ['zh-CN'])).toBe('en');
    expect(translator('zh')('tenantCreated', { name: 'a' })).toBe('已创建租户 a。');
  });

  it('has every message in both languages', () => {
    expect(Object.keys(MESSAGES.zh).sort()).toEqual(Object.keys(MESSAGES.en).sort());
    for (const v of Object.values(MESSAGES.zh)) expect(v.length).toBeGreaterThan(0);
  });
});

describe('snippets and errors', () => {
  const req = {
    model: 'glm-demo',
    messages: [{ role: 'user', content: "it's" }],
    temperature: 0.7,
    top_p: 0.9,
    max_tokens: 64,
    stream: true,
    tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object', properties: {} } } }],
  };

  it('writes curl, Python and JS with the key as a placeholder', () => {
    const c = curl('http://gw', req);
    expect(c).toContain(`'\\''`);
    expect(c).toContain('$GLM_API_KEY');
    const body = JSON.parse(c.slice(c.indexOf("-d '") + 4, -1).replace(/'\\''/g, "'"));
    expect(body).toMatchObject({ model: 'glm-demo', stream: true, max_tokens: 64, stream_options: { include_usage: true } });
    expect(python('http://gw', req)).toContain('base_url="http://gw/v1"');
    expect(python('http://gw', req)).toContain('stream=True');
    expect(javascript('http://gw', req)).toContain("baseURL: 'http://gw/v1'");
  });

  it('reads the message of every error shape', () => {
    expect(errorMessage(401, '{"error":{"code":"1002","message":"bad key"}}')).toBe('401 [1002]: bad key');
    expect(errorMessage(413, '{"error":{"code":"request_too_large","message":"too big"}}')).toBe(
      '413 [request_too_large]: too big',
    );
    expect(errorMessage(502, 'upstream down')).toBe('502: upstream down');
    expect(errorMessage(500, '')).toBe('HTTP 500');
  });
});
