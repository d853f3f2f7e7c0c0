/**
 * Splits a server-sent event stream into the data of its events, as text arrives in arbitrary
 * pieces. Lines starting with "data:" are joined per event; comments and other fields are ignored.
 */
export class SseParser {
  private buffer = '';
  private data: string[] = [];

  /** Feeds a piece of the stream; returns the data of every event it completed. */
  push(chunk: string): string[] {
    this.buffer += chunk;
    const out: string[] = [];
    let nl: number;
    while ((nl = this.buffer.search(/\r\n|\n|\r/)) >= 0) {
      const line = this.buffer.slice(0, nl);
      const sepLength = this.buffer.startsWith('\r\n', nl) ? 2 : 1;
      this.buffer = this.buffer.slice(nl + sepLength);
      if (line === '') {
        if (this.data.length > 0) out.push(this.data.join('\n'));
        this.data = [];
      } else if (line.startsWith('data:')) {
        this.data.push(line.slice(5).replace(/^ /, ''));
      }
    }
    return out;
  }

  /** The event left when the stream ends without a final blank line. */
  end(): string[] {
    const out = this.push('\n\n');
    this.buffer = '';
    return out;
  }
}

export interface ChatDelta {
  content: string;
  reasoning: string;
  toolCalls: unknown[];
  finishReason: string | null;
  usage: { prompt_tokens: number; completion_tokens: number } | null;
  error: string | null;
}

/** What one OpenAI-shaped chat completion chunk adds to the answer. */
export function readChunk(data: string): ChatDelta | 'done' {
  if (data.trim() === '[DONE]') return 'done';
  const j = JSON.parse(data);
  const d: ChatDelta = { content: '', reasoning: '', toolCalls: [], finishReason: null, usage: null, error: null };
  if (j.error) {
    d.error = typeof j.error === 'string' ? j.error : (j.error.message ?? JSON.stringify(j.error));
    return d;
  }
  for (const c of j.choices ?? []) {
    const delta = c.delta ?? c.message ?? {};
    if (typeof delta.content === 'string') d.content += delta.content;
    if (typeof delta.reasoning_content === 'string') d.reasoning += delta.reasoning_content;
    if (Array.isArray(delta.tool_calls)) d.toolCalls.push(...delta.tool_calls);
    if (c.finish_reason) d.finishReason = c.finish_reason;
  }
  if (j.usage) d.usage = j.usage;
  return d;
}
