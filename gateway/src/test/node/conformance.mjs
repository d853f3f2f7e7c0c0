// Runs the official `openai` and the `zhipuai` npm clients against a running gateway.
// Env: GATEWAY (http://127.0.0.1:PORT), KEY (id.secret), BROKE_KEY, MODEL.
// Prints "ok <name>" or "FAIL <name>: <why>" per check; exits 1 if any failed.
import OpenAI from 'openai';
import { ZhipuAI } from 'zhipuai';

const { GATEWAY, KEY, BROKE_KEY, MODEL } = process.env;
const messages = [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'hi' }];
let failed = 0;

async function check(name, fn) {
  try {
    await fn();
    console.log(`ok ${name}`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}: ${e && e.stack ? e.stack.split('\n').slice(0, 3).join(' | ') : e}`);
  }
}
function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}
async function expectError(fn, className, status) {
  try {
    await fn();
  } catch (e) {
    assert(e.constructor.name === className, `expected ${className}, got ${e.constructor.name}: ${e.message}`);
    if (status !== undefined) assert(e.status === status, `expected status ${status}, got ${e.status}`);
    return e;
  }
  throw new Error(`expected ${className}, got success`);
}

const openai = new OpenAI({ apiKey: KEY, baseURL: `${GATEWAY}/v1`, maxRetries: 0 });

await check('openai chat (raw key)', async () => {
  const r = await openai.chat.completions.create({ model: MODEL, messages, temperature: 0.5 });
  assert(r.object === 'chat.completion', `object ${r.object}`);
  assert(r.choices[0].message.content === 'Hello, world!', `content ${r.choices[0].message.content}`);
  assert(r.choices[0].finish_reason === 'stop', `finish ${r.choices[0].finish_reason}`);
  assert(r.usage.total_tokens === 16 && r.usage.prompt_tokens_details.cached_tokens === 4, 'usage');
});

await check('openai streaming with usage', async () => {
  const s = await openai.chat.completions.create({ model: MODEL, messages, stream: true,
    stream_options: { include_usage: true } });
  let text = '';
  let usage = null;
  let finish = null;
  for await (const c of s) {
    if (c.choices.length) {
      text += c.choices[0].delta.content ?? '';
      finish = c.choices[0].finish_reason ?? finish;
    }
    if (c.usage) usage = c.usage;
  }
  assert(text === 'Hello, world!', `text ${text}`);
  assert(finish === 'stop', `finish ${finish}`);
  assert(usage && usage.completion_tokens === 4, `usage ${JSON.stringify(usage)}`);
});

await check('openai models', async () => {
  const ids = [];
  for await (const m of openai.models.list()) ids.push(m.id);
  assert(ids.includes(MODEL), `models ${ids}`);
});

await check('openai errors are the SDK types', async () => {
  const bad = new OpenAI({ apiKey: 'nokey.nosecret', baseURL: `${GATEWAY}/v1`, maxRetries: 0 });
  await expectError(() => bad.chat.completions.create({ model: MODEL, messages }), 'AuthenticationError', 401);
  const e = await expectError(() => openai.chat.completions.create({ model: MODEL, messages, temperature: 7 }),
    'BadRequestError', 400);
  assert(e.param === 'temperature', `param ${e.param}`);
  await expectError(() => openai.chat.completions.create({ model: 'nope', messages }), 'NotFoundError', 404);
  const broke = new OpenAI({ apiKey: BROKE_KEY, baseURL: `${GATEWAY}/v1`, maxRetries: 3 });
  const t0 = Date.now();
  const q = await expectError(() => broke.chat.completions.create({ model: MODEL, messages }), 'RateLimitError', 429);
  assert(q.code === 'insufficient_quota', `code ${q.code}`);
  assert(Date.now() - t0 < 2000, 'x-should-retry: false must stop the SDK retrying');
});

await check('openai error after the stream started', async () => {
  const s = await openai.chat.completions.create({ model: MODEL, stream: true,
    messages: [{ role: 'user', content: '[fail-after-first]' }] });
  let text = '';
  await expectError(async () => { for await (const c of s) text += c.choices[0]?.delta?.content ?? ''; }, 'APIError');
  assert(text === 'Hello', `text before the error ${text}`);
});

const zhipu = new ZhipuAI({ apiKey: KEY, baseURL: `${GATEWAY}/api/paas/v4`, maxRetries: 0 });

await check('zhipuai chat (JWT)', async () => {
  const r = await zhipu.chat.completions.create({ model: MODEL, messages, request_id: 'zp-1', do_sample: false });
  assert(r.id === 'zp-1' && r.request_id === 'zp-1', `id ${r.id}`);
  assert(r.choices[0].message.content === 'Hello, world!', 'content');
  assert(r.usage.total_tokens === 16, 'usage');
});

await check('zhipuai streaming', async () => {
  const s = await zhipu.chat.completions.create({ model: MODEL, messages, stream: true });
  let text = '';
  let last = null;
  for await (const c of s) {
    assert(c.choices[0].delta.role === 'assistant', 'every chunk repeats the role');
    text += c.choices[0].delta.content ?? '';
    last = c;
  }
  assert(text === 'Hello, world!', `text ${text}`);
  assert(last.choices[0].finish_reason === 'stop' && last.usage.total_tokens === 16, 'last chunk');
});

await check('zhipuai async task', async () => {
  const t = await zhipu.chat.completions.tasks.create({ model: MODEL, messages });
  assert(t.task_status === 'PROCESSING' && t.id, `task ${JSON.stringify(t)}`);
  let r;
  for (let i = 0; i < 100; i++) {
    r = await zhipu.chat.completions.tasks.retrieve({ id: t.id });
    if (r.task_status !== 'PROCESSING') break;
    await new Promise((res) => setTimeout(res, 50));
  }
  assert(r.task_status === 'SUCCESS', `status ${r.task_status}`);
  assert(r.choices[0].message.content === 'Hello, world!', 'async content');
});

await check('zhipuai errors are the SDK types', async () => {
  const bad = new ZhipuAI({ apiKey: 'kmain.wrongsecret', baseURL: `${GATEWAY}/api/paas/v4`, maxRetries: 0 });
  const a = await expectError(() => bad.chat.completions.create({ model: MODEL, messages }), 'AuthenticationError', 401);
  assert(a.code === '1002', `code ${a.code}`);
  const broke = new ZhipuAI({ apiKey: BROKE_KEY, baseURL: `${GATEWAY}/api/paas/v4`, maxRetries: 0 });
  const b = await expectError(() => broke.chat.completions.create({ model: MODEL, messages }), 'RateLimitError', 429);
  assert(b.code === '1113', `code ${b.code}`);
  const c = await expectError(() => zhipu.chat.completions.create({ model: MODEL, messages: [] }), 'BadRequestError', 400);
  assert(c.code === '1214', `code ${c.code}`);
  const d = await expectError(() => zhipu.chat.completions.create({ model: 'nope', messages }), 'NotFoundError', 404);
  assert(d.code === '1211', `code ${d.code}`);
});

process.exit(failed ? 1 : 0);
