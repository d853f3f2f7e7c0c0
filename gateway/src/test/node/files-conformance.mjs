// The Files API through the official `openai` npm client, unchanged: files.create (purpose batch)
// of 50 chat lines, retrieve, content, list (auto-paginated with limit/after/order), delete, and the
// errors it surfaces for a bad batch file and another tenant's file. (The zhipuai npm client has no
// files API.) Env: GATEWAY (http://127.0.0.1:PORT), KEY, MODEL, OTHER_KEY (another tenant's key;
// optional: without it the isolation check is skipped).
// Prints "ok <name>" or "FAIL <name>: <why>" per check; exits 1 if any failed.
import OpenAI, { toFile } from 'openai';

const { GATEWAY, KEY, OTHER_KEY, MODEL } = process.env;
const openai = new OpenAI({ apiKey: KEY, baseURL: `${GATEWAY}/v1`, maxRetries: 0 });
// without another tenant's key (./glm up makes one demo key) the isolation check is skipped
const other = OTHER_KEY ? new OpenAI({ apiKey: OTHER_KEY, baseURL: `${GATEWAY}/v1`, maxRetries: 0 }) : null;
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
async function expectError(fn, className) {
  try {
    await fn();
  } catch (e) {
    assert(e.constructor.name === className, `expected ${className}, got ${e.constructor.name}: ${e.message}`);
    return e;
  }
  throw new Error(`expected ${className}, got success`);
}

const lines = [];
for (let i = 0; i < 50; i++) {
  lines.push(JSON.stringify({
    custom_id: `req-${i}`,
    method: 'POST',
    url: '/v1/chat/completions',
    body: { model: MODEL, messages: [{ role: 'user', content: `say ${i}` }], max_tokens: 8 },
  }));
}
const input = lines.join('\n') + '\n';
let file;

await check('files.create', async () => {
  file = await openai.files.create({ file: await toFile(Buffer.from(input), 'batch-in.jsonl'), purpose: 'batch' });
  assert(file.id.startsWith('file-'), `id ${file.id}`);
  assert(file.object === 'file', `object ${file.object}`);
  assert(file.bytes === Buffer.byteLength(input), `bytes ${file.bytes}`);
  assert(file.filename === 'batch-in.jsonl', `filename ${file.filename}`);
  assert(file.purpose === 'batch', `purpose ${file.purpose}`);
  assert(Math.abs(file.created_at - Date.now() / 1000) < 120, `created_at ${file.created_at}`);
});

await check('files.retrieve', async () => {
  const f = await openai.files.retrieve(file.id);
  assert(JSON.stringify(f) === JSON.stringify(file), `${JSON.stringify(f)} != ${JSON.stringify(file)}`);
});

await check('files.content', async () => {
  const text = await (await openai.files.content(file.id)).text();
  assert(text === input, `content differs (${text.length} vs ${input.length} chars)`);
  const got = text.trim().split('\n').map((l) => JSON.parse(l).custom_id);
  assert(got.length === 50 && got[49] === 'req-49', `custom_ids ${got.slice(-2)}`);
});

await check('files.list paginates', async () => {
  const made = [file.id];
  for (let i = 0; i < 2; i++) {
    made.push((await openai.files.create({ file: await toFile(Buffer.from(`{"n":${i}}\n`), `p${i}.jsonl`), purpose: 'batch' })).id);
  }
  const seen = [];
  // limit 1: the client follows has_more with after=<last id> page by page
  for await (const f of openai.files.list({ purpose: 'batch', limit: 1, order: 'asc' })) {
    seen.push(f.id);
  }
  for (const id of made) assert(seen.includes(id), `${id} not listed in ${seen}`);
  assert(new Set(seen).size === seen.length, `a file listed twice: ${seen}`);
  const page = await openai.files.list({ purpose: 'batch', limit: 1 });
  assert(page.data.length === 1 && page.has_more === true, `first page ${JSON.stringify(page.data)} has_more ${page.has_more}`);
  for (const id of made.slice(1)) await openai.files.delete(id);
});

if (other) await check('another tenant gets 404', async () => {
  await expectError(() => other.files.retrieve(file.id), 'NotFoundError');
  await expectError(() => other.files.content(file.id), 'NotFoundError');
  await expectError(() => other.files.delete(file.id), 'NotFoundError');
  for await (const f of other.files.list()) assert(f.id !== file.id, 'listed to another tenant');
});

await check('a bad batch file is a 400 naming the line', async () => {
  const e = await expectError(
    async () => openai.files.create({ file: await toFile(Buffer.from('{"a":1}\nnot json\n'), 'bad.jsonl'), purpose: 'batch' }),
    'BadRequestError',
  );
  assert(/line 2/.test(e.message), e.message);
  assert(e.param === 'file', `param ${e.param}`);
});

await check('files.delete', async () => {
  const d = await openai.files.delete(file.id);
  assert(d.deleted === true && d.id === file.id, JSON.stringify(d));
  await expectError(() => openai.files.retrieve(file.id), 'NotFoundError');
});

process.exit(failed ? 1 : 0);
