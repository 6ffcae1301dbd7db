// The AI SDK suite, run by ai5/ and ai6/ with their own pinned `ai` package: real clients
// (DefaultChatTransport, readUIMessageStream, ChatwireTransport over the ws package) against
// the examples/cluster binary (two instances sharing one Redis), started by the harness.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { startCluster, wsURL } from "./harness.mjs";
import { ChatwireTransport, ChunkWriter, loadUIMessages } from "../../internal/demo/static/chatwire.js";

const TIMEOUT = 60000;

// plain drops undefined fields, as JSON does (the AI SDK leaves e.g. providerMetadata:
// undefined), and the id that ai 6 copies from the reasoning-start chunk onto a reasoning part
// (ai 5 does not): the chunk's id names the part in the stream, it is not content.
const plain = (v) => JSON.parse(JSON.stringify(v, (k, x) => (x && x.type === "reasoning" && "id" in x ? { ...x, id: undefined } : x)));

function userMessage(text) {
  return { id: randomUUID(), role: "user", parts: [{ type: "text", text }] };
}

// lastOf reads a UIMessage stream (readUIMessageStream's snapshots) to its end and returns
// the last snapshot; onSnapshot sees each one and may return true to stop reading early.
async function lastOf(ai, stream, onSnapshot) {
  let last;
  let errored;
  for await (const m of ai.readUIMessageStream({ stream, terminateOnError: true, onError: (e) => { errored = e; } })) {
    last = m;
    if (onSnapshot && onSnapshot(m)) break;
  }
  if (errored) throw errored;
  return last;
}

// storedReply returns the stored assistant message with id, as a UIMessage, read from the
// history of chatId on the instance at base (waiting until it is there).
async function storedReply(base, chatId, id) {
  const deadline = Date.now() + TIMEOUT;
  for (;;) {
    const msgs = await loadUIMessages({ url: wsURL(base), chatId });
    const m = msgs.find((x) => x.id === id);
    if (m) return m;
    if (Date.now() > deadline) throw new Error(`reply ${id} not stored in chat ${chatId}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

// sse encodes chunks as the UI message stream protocol's SSE body.
function sse(chunks) {
  const body = chunks.map((c) => `data: ${JSON.stringify(c)}\n\n`).join("") + "data: [DONE]\n\n";
  return new Response(body).body;
}

// suite registers the tests for one `ai` module; WebSocket is the ws package's class, made
// the global one that chatwire.js uses, as in a browser (Node 20 has none).
export function suite(ai, label, WebSocket) {
  globalThis.WebSocket ??= WebSocket;
  let cluster;
  before(async () => {
    cluster = await startCluster();
  }, { timeout: 180000 });
  after(async () => {
    await cluster?.stop();
  });

  test(`${label}: ChunkWriter's chunks pass the real client's chunk schemas and rebuild the parts`, async () => {
    const parts = [
      { type: "step-start" },
      { type: "reasoning", text: "Let me think. Then roll.", state: "done" },
      { type: "tool-roll_die", toolCallId: "call-1", state: "output-available", input: { sides: 6 }, output: { value: 4 }, inputText: '{"sides":6}' },
      { type: "dynamic-tool", toolName: "lookup", toolCallId: "call-2", state: "output-error", input: { q: "x" }, errorText: "no such thing" },
      { type: "source-url", sourceId: "src-1", url: "https://example.com/dice", title: "Dice" },
      { type: "source-document", sourceId: "src-2", mediaType: "application/pdf", title: "Rules", filename: "rules.pdf" },
      { type: "file", url: "data:text/plain;base64,aGk=", mediaType: "text/plain" },
      { type: "data-progress", id: "p1", data: { done: 3, of: 3 } },
      { type: "step-start" },
      { type: "text", text: "You rolled a 4.", state: "done" },
    ];
    // Grow the reply in steps, as a stream would, and write the chunks of each step.
    const w = new ChunkWriter("msg-1");
    const chunks = [];
    const grown = [];
    for (const p of parts) {
      if (p.type === "text" || p.type === "reasoning") {
        grown.push({ ...p, text: p.text.slice(0, 5), state: "streaming" });
        chunks.push(...w.update(grown));
        grown[grown.length - 1] = p;
      } else if (p.type === "tool-roll_die") {
        grown.push({ ...p, state: "input-streaming", inputText: '{"si', input: undefined });
        chunks.push(...w.update(grown));
        grown[grown.length - 1] = p;
      } else {
        grown.push(p);
      }
      chunks.push(...w.update(grown));
    }
    chunks.push(...w.end(grown, "done"));
    // The real DefaultChatTransport parses and validates the SSE body (ai 5.0.0 rejects any
    // chunk with a field it does not know); readUIMessageStream assembles the message.
    const transport = new ai.DefaultChatTransport({ api: "http://unused.invalid/api/chat" });
    const msg = await lastOf(ai, transport.processResponseStream(sse(chunks)));
    assert.equal(msg.id, "msg-1");
    const want = parts.map(({ inputText, ...p }) => p);
    assert.deepEqual(plain(msg.parts), plain(want));
  });

  test(`${label}: SSE — DefaultChatTransport assembles the parts the handler stored`, { timeout: TIMEOUT }, async () => {
    const chatId = randomUUID();
    const transport = new ai.DefaultChatTransport({ api: cluster.a + "/api/chat" });
    const stream = await transport.sendMessages({
      chatId, messages: [userMessage("show me every part")], trigger: "submit-message", messageId: undefined, abortSignal: undefined,
    });
    const msg = await lastOf(ai, stream);
    assert.equal(msg.role, "assistant");
    const types = msg.parts.map((p) => p.type);
    for (const t of ["reasoning", "source-url", "text"]) assert.ok(types.includes(t), `no ${t} part in ${types}`);
    assert.ok(msg.parts.some((p) => p.type.startsWith("tool-") && p.state === "output-available"), `no finished tool call in ${types}`);
    const stored = await storedReply(cluster.b, chatId, msg.id);
    assert.deepEqual(plain(msg.parts), plain(stored.parts));
  });

  test(`${label}: SSE — abort mid-stream, reconnectToStream on the other instance yields the rest`, { timeout: TIMEOUT }, async () => {
    const chatId = randomUUID();
    const ac = new AbortController();
    const ta = new ai.DefaultChatTransport({ api: cluster.a + "/api/chat" });
    const stream = await ta.sendMessages({
      chatId, messages: [userMessage("a long answer please")], trigger: "submit-message", messageId: undefined, abortSignal: ac.signal,
    });
    let partial;
    try {
      partial = await lastOf(ai, stream, (m) => m.parts.some((p) => p.type === "text" && p.text.length > 0));
    } finally {
      ac.abort(); // a disconnect, not a stop: the reply goes on
    }
    assert.ok(partial && partial.id, "no message before the abort");
    const tb = new ai.DefaultChatTransport({ api: cluster.b + "/api/chat" });
    const resumed = await tb.reconnectToStream({ chatId });
    assert.ok(resumed, "reconnectToStream found no running reply (204)");
    const msg = await lastOf(ai, resumed);
    assert.equal(msg.id, partial.id, "the resumed stream's start chunk carries the same message id");
    const text = msg.parts.filter((p) => p.type === "text").map((p) => p.text).join("");
    const before = partial.parts.filter((p) => p.type === "text").map((p) => p.text).join("");
    assert.ok(text.startsWith(before) && text.length > before.length, "the resumed reply continues the text");
    const stored = await storedReply(cluster.a, chatId, msg.id);
    assert.deepEqual(plain(msg.parts), plain(stored.parts));
    assert.equal(await tb.reconnectToStream({ chatId }), null, "nothing runs after the end: 204");
  });

  test(`${label}: SSE — the stop endpoint on the other instance cancels the reply; the stream ends`, { timeout: TIMEOUT }, async () => {
    const chatId = randomUUID();
    const ta = new ai.DefaultChatTransport({ api: cluster.a + "/api/chat" });
    const stream = await ta.sendMessages({
      chatId, messages: [userMessage("stop me")], trigger: "submit-message", messageId: undefined, abortSignal: undefined,
    });
    let stopped = null;
    const msg = await lastOf(ai, stream, (m) => {
      if (!stopped && m.parts.some((p) => p.type === "text" && p.text.length > 0)) {
        // useChat's stop() only aborts the fetch; an app also calls the stop endpoint.
        stopped = fetch(`${cluster.b}/api/chat/${encodeURIComponent(chatId)}/stop`, {
          method: "POST", headers: { "Content-Type": "application/json" }, body: "{}",
        });
      }
      return false;
    });
    const res = await stopped;
    assert.equal(res.status, 200);
    assert.deepEqual((await res.json()).stopped, [msg.id]);
    const stored = await storedReply(cluster.a, chatId, msg.id);
    assert.equal(stored.metadata?.chatwire?.state, "cancelled");
    const text = (m) => m.parts.filter((p) => p.type === "text").map((p) => p.text).join("");
    assert.ok(text(stored).startsWith(text(msg)), "the stream ended with (a prefix of) the stored text");
  });

  test(`${label}: SSE — after a disconnect (a reload), the stop endpoint on the other instance cancels the reply`, { timeout: TIMEOUT }, async () => {
    const chatId = randomUUID();
    const ac = new AbortController();
    const ta = new ai.DefaultChatTransport({ api: cluster.a + "/api/chat" });
    const stream = await ta.sendMessages({
      chatId, messages: [userMessage("reload, then stop")], trigger: "submit-message", messageId: undefined, abortSignal: ac.signal,
    });
    let partial;
    try {
      partial = await lastOf(ai, stream, (m) => m.parts.some((p) => p.type === "reasoning"));
    } finally {
      ac.abort(); // the page reloads: a disconnect
    }
    const tb = new ai.DefaultChatTransport({ api: cluster.b + "/api/chat" });
    const resumed = await tb.reconnectToStream({ chatId });
    assert.ok(resumed, "no running reply to resume");
    let stopped = null;
    const msg = await lastOf(ai, resumed, (m) => {
      if (!stopped && m.parts.some((p) => p.type === "text" && p.text.length > 0)) {
        stopped = fetch(`${cluster.b}/api/chat/${encodeURIComponent(chatId)}/stop`, {
          method: "POST", headers: { "Content-Type": "application/json" }, body: "{}",
        });
      }
      return false;
    });
    assert.equal(msg.id, partial.id);
    assert.equal((await stopped).status, 200);
    const stored = await storedReply(cluster.a, chatId, msg.id);
    assert.equal(stored.metadata?.chatwire?.state, "cancelled");
  });

  test(`${label}: WebSocket — ChatwireTransport assembles the parts the handler stored`, { timeout: TIMEOUT }, async () => {
    const chatId = randomUUID();
    const t = new ChatwireTransport({ url: wsURL(cluster.a) });
    try {
      const stream = await t.sendMessages({
        chatId, messages: [userMessage("show me every part")], trigger: "submit-message", messageId: undefined, abortSignal: undefined,
      });
      const msg = await lastOf(ai, stream);
      const types = msg.parts.map((p) => p.type);
      for (const tp of ["reasoning", "source-url", "text"]) assert.ok(types.includes(tp), `no ${tp} part in ${types}`);
      const stored = await storedReply(cluster.b, chatId, msg.id);
      assert.deepEqual(plain(msg.parts), plain(stored.parts));
    } finally {
      t.close();
    }
  });

  test(`${label}: WebSocket — disconnect mid-stream, reconnectToStream on the other instance yields the rest`, { timeout: TIMEOUT }, async () => {
    const chatId = randomUUID();
    const ta = new ChatwireTransport({ url: wsURL(cluster.a) });
    let partial;
    try {
      const stream = await ta.sendMessages({
        chatId, messages: [userMessage("a long answer please")], trigger: "submit-message", messageId: undefined, abortSignal: undefined,
      });
      partial = await lastOf(ai, stream, (m) => m.parts.some((p) => p.type === "text" && p.text.length > 0));
    } finally {
      ta.close(); // the page went away: a disconnect, the reply goes on
    }
    const tb = new ChatwireTransport({ url: wsURL(cluster.b) });
    try {
      const resumed = await tb.reconnectToStream({ chatId });
      assert.ok(resumed, "reconnectToStream found no running reply");
      const msg = await lastOf(ai, resumed);
      assert.equal(msg.id, partial.id);
      const stored = await storedReply(cluster.a, chatId, msg.id);
      assert.deepEqual(plain(msg.parts), plain(stored.parts));
      assert.equal(await tb.reconnectToStream({ chatId }), null, "nothing runs after the end");
    } finally {
      tb.close();
    }
  });

  test(`${label}: WebSocket — aborting (useChat's stop()) cancels the reply on the server`, { timeout: TIMEOUT }, async () => {
    const chatId = randomUUID();
    const t = new ChatwireTransport({ url: wsURL(cluster.a) });
    try {
      const ac = new AbortController();
      const stream = await t.sendMessages({
        chatId, messages: [userMessage("a long answer please")], trigger: "submit-message", messageId: undefined, abortSignal: ac.signal,
      });
      let id;
      await assert.rejects(lastOf(ai, stream, (m) => {
        id = m.id;
        if (m.parts.some((p) => p.type === "text" && p.text.length > 0)) ac.abort();
        return false;
      }), (e) => e.name === "AbortError");
      const stored = await storedReply(cluster.b, chatId, id);
      assert.equal(stored.metadata?.chatwire?.state, "cancelled");
    } finally {
      t.close();
    }
  });

  test(`${label}: WebSocket — a reply resumed on the other instance is stopped by reconnectToStream's abort signal`, { timeout: TIMEOUT }, async () => {
    const chatId = randomUUID();
    const ta = new ChatwireTransport({ url: wsURL(cluster.a) });
    try {
      const stream = await ta.sendMessages({
        chatId, messages: [userMessage("resume, then stop")], trigger: "submit-message", messageId: undefined, abortSignal: undefined,
      });
      await stream.getReader().read(); // the reply started
    } finally {
      ta.close(); // a reload: the reply goes on
    }
    const tb = new ChatwireTransport({ url: wsURL(cluster.b) });
    try {
      const ac = new AbortController();
      const resumed = await tb.reconnectToStream({ chatId, abortSignal: ac.signal });
      assert.ok(resumed, "no running reply to resume");
      let id;
      await assert.rejects(lastOf(ai, resumed, (m) => {
        id = m.id;
        if (m.parts.some((p) => p.type === "text" && p.text.length > 0)) ac.abort(); // useChat's stop() (ai 6 passes it)
        return false;
      }), (e) => e.name === "AbortError");
      const stored = await storedReply(cluster.a, chatId, id);
      assert.equal(stored.metadata?.chatwire?.state, "cancelled");
    } finally {
      tb.close();
    }
  });
}
