/** The playground's request, as code a user copies (the key stays a placeholder). */
export interface PlaygroundRequest {
  model: string;
  messages: { role: string; content: string }[];
  temperature: number;
  top_p: number;
  max_tokens: number;
  stream: boolean;
  tools?: unknown[];
}

export function requestBody(r: PlaygroundRequest): Record<string, unknown> {
  const body: Record<string, unknown> = {
    model: r.model,
    messages: r.messages,
    temperature: r.temperature,
    top_p: r.top_p,
    max_tokens: r.max_tokens,
    stream: r.stream,
  };
  if (r.tools && r.tools.length > 0) body.tools = r.tools;
  if (r.stream) body.stream_options = { include_usage: true };
  return body;
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export function curl(baseUrl: string, r: PlaygroundRequest): string {
  return [
    `curl ${r.stream ? '-N ' : ''}${baseUrl}/v1/chat/completions \\`,
    `  -H "Authorization: Bearer $GLM_API_KEY" \\`,
    `  -H "Content-Type: application/json" \\`,
    `  -d ${shellQuote(JSON.stringify(requestBody(r)))}`,
  ].join('\n');
}

/** A JSON value as Python source (True/False/None). */
export function py(v: unknown, indent = 0): string {
  const pad = '    '.repeat(indent + 1);
  const end = '    '.repeat(indent);
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]';
    return `[\n${v.map((x) => pad + py(x, indent + 1)).join(',\n')},\n${end}]`;
  }
  const entries = Object.entries(v as Record<string, unknown>);
  if (entries.length === 0) return '{}';
  return `{\n${entries.map(([k, x]) => `${pad}${JSON.stringify(k)}: ${py(x, indent + 1)}`).join(',\n')},\n${end}}`;
}

export function python(baseUrl: string, r: PlaygroundRequest): string {
  const b = requestBody(r);
  const args = Object.entries(b)
    .map(([k, v]) => `    ${k}=${py(v, 1)},`)
    .join('\n');
  const lines = [
    'import os',
    'from openai import OpenAI',
    '',
    `client = OpenAI(base_url="${baseUrl}/v1", api_key=os.environ["GLM_API_KEY"])`,
    '',
    'response = client.chat.completions.create(',
    args,
    ')',
  ];
  if (r.stream) {
    lines.push(
      'for chunk in response:',
      '    if chunk.choices and chunk.choices[0].delta.content:',
      '        print(chunk.choices[0].delta.content, end="", flush=True)',
    );
  } else {
    lines.push('print(response.choices[0].message.content)');
  }
  return lines.join('\n');
}

export function javascript(baseUrl: string, r: PlaygroundRequest): string {
  const body = JSON.stringify(requestBody(r), null, 2).replace(/\n/g, '\n');
  const lines = [
    "import OpenAI from 'openai';",
    '',
    `const client = new OpenAI({ baseURL: '${baseUrl}/v1', apiKey: process.env.GLM_API_KEY });`,
    '',
    `const response = await client.chat.completions.create(${body});`,
  ];
  if (r.stream) {
    lines.push(
      'for await (const chunk of response) {',
      "  process.stdout.write(chunk.choices[0]?.delta?.content ?? '');",
      '}',
    );
  } else {
    lines.push('console.log(response.choices[0].message.content);');
  }
  return lines.join('\n');
}
