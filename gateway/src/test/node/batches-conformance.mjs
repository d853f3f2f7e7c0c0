// The Batches API through the official `openai` npm client, unchanged: files.create (purpose
// batch) of 50 chat lines -> batches.create -> batches.retrieve until completed -> files.content of
// the output file: 50 lines whose custom_ids match the input, each a chat completion; then
// batches.list, and cancel of a finished batch as the client's BadRequestError. (The zhipuai npm
// client 2.0.0 has no files or batches API.) With CHECK_BILLING=1 the balance must drop by the
// batch price of the lines' usage: BATCH_INPUT_PRICE / BATCH_OUTPUT_PRICE micro-units per million
// tokens (default 500000 / 1000000: half of billing's default price), each line rounded up.
// Env: GATEWAY, KEY, MODEL. Prints "ok <name>" or "FAIL <name>: <why>" per check; exits 1 on any.
import OpenAI, { toFile } from 'openai';

const { GATEWAY, KEY, MODEL, CHECK_BILLING } = process.env;
const IN = Number(process.env.BATCH_INPUT_PRICE || 500000);
const OUT = Number(process.env.BATCH_OUTPUT_PRICE || 1000000);
const openai = new OpenAI({ apiKey: KEY, baseURL: `${GATEWAY}/v1`, maxRetries: 0 });
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
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function balance() {
  const r = await fetch(`${GATEWAY}/v1/billing/balance`, { headers: { Authorization: `Bearer ${KEY}` } });
  assert(r.status === 200, `balance ${r.status}`);
  return (await r.json()).balance_micros;
}

const ids = [];
const lines = [];
for (let i = 0; i < 50; i++) {
  ids.push(`req-${i}`);
  lines.push(JSON.stringify({
    custom_id: `req-${i}`,
    method: 'POST',
    url: '/v1/chat/completions',
    body: { model: MODEL, messages: [{ role: 'user', content: `say ${i}` }], max_tokens: 8 },
  }));
}
const before = CHECK_BILLING ? await balance() : 0;
let batch;
let output = [];

await check('files.create + batches.create', async () => {
  const file = await openai.files.create({ file: await toFile(Buffer.from(lines.join('\n') + '\n'), 'in.jsonl'), purpose: 'batch' });
  batch = await openai.batches.create({
    input_file_id: file.id,
    endpoint: '/v1/chat/completions',
    completion_window: '24h',
    metadata: { job: 'sdk' },
  });
  assert(batch.id.startsWith('batch_') && batch.object === 'batch', JSON.stringify(batch));
  assert(['validating', 'in_progress'].includes(batch.status), `status ${batch.status}`);
  assert(batch.input_file_id === file.id && batch.metadata.job === 'sdk', JSON.stringify(batch));
});

await check('batches.retrieve until completed', async () => {
  const end = Date.now() + 180_000;
  while (Date.now() < end) {
    batch = await openai.batches.retrieve(batch.id);
    if (['completed', 'failed', 'expired', 'cancelled'].includes(batch.status)) break;
    await sleep(500);
  }
  assert(batch.status === 'completed', `status ${batch.status}: ${JSON.stringify(batch)}`);
  const c = batch.request_counts;
  assert(c.total === 50 && c.completed === 50 && c.failed === 0, JSON.stringify(c));
  assert(batch.completed_at >= batch.in_progress_at && batch.output_file_id, JSON.stringify(batch));
});

await check('output file: 50 chat completions, custom_ids as the input', async () => {
  const text = await (await openai.files.content(batch.output_file_id)).text();
  output = text.trim().split('\n').map((l) => JSON.parse(l));
  assert(output.length === 50, `${output.length} lines`);
  const got = output.map((o) => o.custom_id).sort();
  assert(JSON.stringify(got) === JSON.stringify([...ids].sort()), `custom_ids ${got.slice(0, 5)}`);
  for (const o of output) {
    assert(o.response.status_code === 200 && o.error === null, JSON.stringify(o));
    const b = o.response.body;
    assert(b.object === 'chat.completion' && b.model === MODEL, JSON.stringify(b).slice(0, 200));
    assert(typeof b.choices[0].message.content === 'string' && b.usage.completion_tokens > 0, JSON.stringify(b).slice(0, 200));
  }
});

await check('batches.list and cancel of a finished batch', async () => {
  const page = await openai.batches.list({ limit: 5 });
  assert(page.data.some((b) => b.id === batch.id), 'not listed');
  try {
    await openai.batches.cancel(batch.id);
    throw new Error('cancel of a completed batch succeeded');
  } catch (e) {
    assert(e.constructor.name === 'BadRequestError', `${e.constructor.name}: ${e.message}`);
  }
});

if (CHECK_BILLING) await check('balance drops by the batch price of the usage', async () => {
  let expected = 0;
  for (const o of output) {
    const u = o.response.body.usage;
    const cached = (u.prompt_tokens_details && u.prompt_tokens_details.cached_tokens) || 0;
    // cached prompt tokens at half the input price, as billing's default price has them
    expected += Math.ceil(((u.prompt_tokens - cached) * IN + cached * (IN / 2) + u.completion_tokens * OUT) / 1e6);
  }
  let drop = 0;
  const end = Date.now() + 60_000;
  while (Date.now() < end) {
    drop = before - (await balance());
    if (drop >= expected) break;
    await sleep(500);
  }
  assert(drop === expected, `balance dropped ${drop} micro-units, the batch price of the usage is ${expected}`);
});

process.exit(failed ? 1 : 0);
