// Embeddings through the official `openai` and `zhipuai` npm clients, unchanged: vectors of the
// model's width, unit norm, in input order (each input alone gives the same vector), usage counted,
// bad input refused with a 400 the SDKs raise as BadRequestError; with CHECK_BILLING=1 (a real
// `./glm up`: run-against-glm-up.sh) also that the tenant's balance drops.
// Env: GATEWAY, KEY, EMBED_MODEL, EMBED_DIMS (the model's width), MODEL (a chat model, refused).
// Prints "ok <name>" or "FAIL <name>: <why>" per check, and one "figures {...}" line; exits 1 if
// any check failed.
import OpenAI from 'openai';
import { ZhipuAI } from 'zhipuai';

const { GATEWAY, KEY, EMBED_MODEL, MODEL } = process.env;
const DIMS = Number(process.env.EMBED_DIMS);
const openai = new OpenAI({ apiKey: KEY, baseURL: `${GATEWAY}/v1`, maxRetries: 0, timeout: 300_000 });
const zhipu = new ZhipuAI({ apiKey: KEY, baseURL: `${GATEWAY}/api/paas/v4`, maxRetries: 0, timeout: 300_000 });
let failed = 0;
const figures = {};

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
function norm(v) {
  return Math.sqrt(v.reduce((s, x) => s + x * x, 0));
}
function checkVectors(r, n, what) {
  assert(r.object === 'list', `${what}: object ${r.object}`);
  assert(r.data.length === n, `${what}: ${r.data.length} vectors for ${n} inputs`);
  r.data.forEach((d, i) => {
    assert(d.object === 'embedding' && d.index === i, `${what}: data[${i}] ${d.object} index ${d.index}`);
    assert(d.embedding.length === DIMS, `${what}: data[${i}] has ${d.embedding.length} dims, want ${DIMS}`);
    const nm = norm(Array.from(d.embedding));
    assert(Math.abs(nm - 1) < 1e-4, `${what}: data[${i}] norm ${nm}`);
  });
  assert(r.usage.prompt_tokens > 0 && r.usage.total_tokens === r.usage.prompt_tokens,
    `${what}: usage ${JSON.stringify(r.usage)}`);
}
function same(a, b, what) {
  assert(a.length === b.length, `${what}: lengths ${a.length} ${b.length}`);
  for (let i = 0; i < a.length; i++) {
    assert(Math.abs(a[i] - b[i]) < 1e-6, `${what}: component ${i}: ${a[i]} vs ${b[i]}`);
  }
}
async function balance() {
  const r = await fetch(`${GATEWAY}/v1/billing/balance`, { headers: { Authorization: `Bearer ${KEY}` } });
  return (await r.json()).balance_micros;
}
async function expectError(fn, className, contains) {
  try {
    await fn();
  } catch (e) {
    assert(e.constructor.name === className, `expected ${className}, got ${e.constructor.name}: ${e.message}`);
    assert(e.status === 400, `status ${e.status}`);
    if (contains) assert(String(e.message).includes(contains), `message ${e.message} lacks '${contains}'`);
    return e;
  }
  throw new Error(`expected ${className}, got success`);
}

const texts = ['你好，世界', 'retrieval needs embeddings', 'GLM MaaS'];
const before = process.env.CHECK_BILLING === '1' ? await balance() : null;

let batch = null;
await check('openai embeddings.create (SDK default encoding): width, unit norm, order, usage', async () => {
  batch = await openai.embeddings.create({ model: EMBED_MODEL, input: texts });
  checkVectors(batch, texts.length, 'openai');
  figures.openai_prompt_tokens = batch.usage.prompt_tokens;
  figures.dims = batch.data[0].embedding.length;
  figures.norms = batch.data.map((d) => Number(norm(Array.from(d.embedding)).toFixed(6)));
  for (let i = 0; i < texts.length; i++) {
    const alone = await openai.embeddings.create({ model: EMBED_MODEL, input: texts[i] });
    same(Array.from(alone.data[0].embedding), Array.from(batch.data[i].embedding), `input ${i} alone vs batched`);
  }
});

await check('openai encoding_format float equals the base64 the SDK decodes', async () => {
  const f = await openai.embeddings.create({ model: EMBED_MODEL, input: texts, encoding_format: 'float' });
  checkVectors(f, texts.length, 'float');
  f.data.forEach((d, i) => same(d.embedding, Array.from(batch.data[i].embedding), `float vs base64 ${i}`));
});

await check('zhipuai embeddings.create: width, unit norm, order, usage', async () => {
  const r = await zhipu.embeddings.create({ model: EMBED_MODEL, input: texts });
  checkVectors(r, texts.length, 'zhipuai');
  figures.zhipuai_prompt_tokens = r.usage.prompt_tokens;
  r.data.forEach((d, i) => same(d.embedding, Array.from(batch.data[i].embedding), `zhipuai vs openai ${i}`));
  const one = await zhipu.embeddings.create({ model: EMBED_MODEL, input: texts[1] });
  checkVectors(one, 1, 'zhipuai one');
});

await check('bad input: empty array, empty string, 10,000 inputs, a chat model are 400s', async () => {
  await expectError(() => openai.embeddings.create({ model: EMBED_MODEL, input: [] }), 'BadRequestError', 'empty');
  await expectError(() => openai.embeddings.create({ model: EMBED_MODEL, input: '' }), 'BadRequestError', 'empty');
  await expectError(() => openai.embeddings.create({ model: EMBED_MODEL, input: Array(10000).fill('x') }),
    'BadRequestError', '2048');
  await expectError(() => openai.embeddings.create({ model: MODEL, input: 'hi' }), 'BadRequestError', 'chat model');
  await expectError(() => zhipu.embeddings.create({ model: EMBED_MODEL, input: [] }), 'BadRequestError');
});

if (before !== null) {
  await check('billing: the tenant balance drops after the calls', async () => {
    let after = await balance();
    for (let i = 0; i < 120 && after >= before; i++) {
      await new Promise((r) => setTimeout(r, 500));
      after = await balance();
    }
    figures.balance_before_micros = before;
    figures.balance_after_micros = after;
    assert(after < before, `balance ${before} -> ${after}`);
  });
}
console.log(`figures ${JSON.stringify(figures)}`);
process.exit(failed ? 1 : 0);
