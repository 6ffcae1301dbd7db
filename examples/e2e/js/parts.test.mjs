// Unit tests of chatwire.js's parts assembly and ChatwireTransport's stream logic, with a fake
// WebSocket playing the server (node --test examples/e2e/js/). The real AI SDK and a real
// server are exercised by examples/e2e/aisdk.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ChatClient, ChatwireTransport, ChunkWriter, toUIMessage } from "../../internal/demo/static/chatwire.js";

class FakeSocket {
  static CONNECTING = 0;
  static OPEN = 1;
  static CLOSED = 3;
  static all = [];
  constructor(url) {
    this.url = new URL(url);
    this.readyState = FakeSocket.CONNECTING;
    this.sent = [];
    FakeSocket.all.push(this);
  }
  send(data) { this.sent.push(JSON.parse(data)); }
  close(code = 1000) { this.readyState = FakeSocket.CLOSED; this.closedWith = code; }
  open() { this.readyState = FakeSocket.OPEN; this.onopen?.(); }
  frame(obj) { this.onmessage?.({ data: JSON.stringify(obj) }); }
  drop(code = 1006, reason = "") { this.readyState = FakeSocket.CLOSED; this.onclose?.({ code, reason }); }
}
globalThis.WebSocket = FakeSocket;

const tick = () => new Promise((r) => setTimeout(r, 0));
const welcome = (streams = [], replayed = 0) => ({
  id: "w" + Math.random(), type: "system", role: "system", content: "connected",
  metadata: { code: "WELCOME", sessionId: "s", connectionId: "c", replayed, streams }, timestamp: 1,
});
const delta = (sid, seq, content, chunks, resume = false) => ({
  id: `${sid}:${seq}${resume ? ":resume" : ""}`, type: "typing", role: "assistant", content, timestamp: 7,
  metadata: { stream: { id: sid, seq, state: "delta", ...(resume ? { resume: true } : {}), ...(chunks ? { chunks } : {}) } },
});
const final = (sid, state, content, parts, extra = {}) => ({
  id: sid, type: "message", role: "assistant", content, timestamp: 9,
  metadata: { stream: { id: sid, seq: 99, state }, ...(parts ? { parts } : {}), ...extra },
});

const storedParts = [
  { type: "step-start" },
  { type: "reasoning", text: "Roll first.", state: "done" },
  { type: "tool-roll_die", toolCallId: "c1", state: "output-available", input: { sides: 6 }, output: 4 },
  { type: "source-url", sourceId: "s1", url: "https://example.com/", title: "Example" },
  { type: "text", text: "You rolled 4.", state: "done" },
];

test("parts: chunks fold into UIMessage parts; a resume frame rebuilds them; the final message's parts win", async () => {
  FakeSocket.all = [];
  const chat = new ChatClient("ws://chat.test/chat", { sessionId: "s", idleTimeoutMs: 0 });
  const events = [];
  chat.addEventListener("stream", (e) => events.push(e.detail));
  chat.addEventListener("streamend", (e) => events.push(e.detail));
  await tick();
  const s = FakeSocket.all[0];
  s.open();
  s.frame(delta("x", 1, "", [{ type: "start-step" }, { type: "reasoning-start", id: "r" }]));
  s.frame(delta("x", 2, "", [{ type: "reasoning-delta", id: "r", delta: "Roll " }, { type: "reasoning-delta", id: "r", delta: "first." }, { type: "reasoning-end", id: "r" }]));
  s.frame(delta("x", 3, "", [{ type: "tool-input-start", toolCallId: "c1", toolName: "roll_die" }, { type: "tool-input-delta", toolCallId: "c1", inputTextDelta: '{"sides"' }]));
  let last = events.at(-1);
  assert.deepEqual(last.parts.map((p) => [p.type, p.state]), [["step-start", undefined], ["reasoning", "done"], ["tool-roll_die", "input-streaming"]]);
  assert.equal(last.parts[1].text, "Roll first.");
  assert.equal(last.parts[2].inputText, '{"sides"');
  // A resume frame (after a reconnect, or merged deltas) carries the compacted chunks of everything.
  s.frame(delta("x", 6, "You ", [
    { type: "start-step" },
    { type: "reasoning-start", id: "r" }, { type: "reasoning-delta", id: "r", delta: "Roll first." }, { type: "reasoning-end", id: "r" },
    { type: "tool-input-available", toolCallId: "c1", toolName: "roll_die", input: { sides: 6 } },
    { type: "tool-output-available", toolCallId: "c1", output: 4 },
    { type: "source-url", sourceId: "s1", url: "https://example.com/", title: "Example" },
    { type: "text-start", id: "t" }, { type: "text-delta", id: "t", delta: "You " },
  ], true));
  last = events.at(-1);
  assert.equal(last.replaced, true);
  assert.deepEqual(last.parts.map((p) => p.type), ["step-start", "reasoning", "tool-roll_die", "source-url", "text"]);
  assert.equal(last.parts[2].state, "output-available");
  assert.equal(last.parts[2].inputText, undefined);
  s.frame(delta("x", 7, "rolled 4.", [{ type: "text-delta", id: "t", delta: "rolled 4." }, { type: "data-note", data: { n: 1 }, transient: true }]));
  last = events.at(-1);
  assert.equal(last.text, "You rolled 4.");
  assert.equal(last.parts.at(-1).text, "You rolled 4.");
  assert.equal(last.parts.length, 5, "a transient data chunk is not a part");
  s.frame(final("x", "done", "You rolled 4.", storedParts, { messageMetadata: { model: "fake" } }));
  last = events.at(-1);
  assert.equal(last.state, "done");
  assert.deepEqual(last.parts, storedParts);
  assert.deepEqual(last.messageMetadata, { model: "fake" });
  chat.close();
});

test("toUIMessage: stored replies keep their parts, metadata and end state; plain messages get one text part", () => {
  assert.deepEqual(toUIMessage(final("x", "cancelled", "You", storedParts.slice(0, 2), { messageMetadata: { a: 1 } })), {
    id: "x", role: "assistant", parts: storedParts.slice(0, 2), metadata: { a: 1, chatwire: { state: "cancelled" } },
  });
  assert.deepEqual(toUIMessage({ id: "u", type: "message", role: "user", content: "hi", timestamp: 1 }), {
    id: "u", role: "user", parts: [{ type: "text", text: "hi" }],
  });
  assert.equal(toUIMessage({ id: "t", type: "typing", role: "user", content: "", timestamp: 1 }), null);
});

test("ChunkWriter: a late reader gets everything so far, then only what is new", () => {
  const w = new ChunkWriter("m");
  assert.deepEqual(w.update([{ type: "text", id: "t", text: "ab", state: "streaming" }]), [
    { type: "start", messageId: "m" }, { type: "text-start", id: "t" }, { type: "text-delta", id: "t", delta: "ab" },
  ]);
  assert.deepEqual(w.update([{ type: "text", id: "t", text: "ab", state: "streaming" }]), []);
  // The stored parts have no ids: the part keeps the id it started with.
  assert.deepEqual(w.end([{ type: "text", text: "abc", state: "done" }], "cancelled"), [
    { type: "text-delta", id: "t", delta: "c" }, { type: "text-end", id: "t" }, { type: "abort" },
    { type: "finish", messageMetadata: { chatwire: { state: "cancelled" } } },
  ]);
  assert.deepEqual(w.update([{ type: "text", text: "abcd" }]), [], "nothing after the end");
});

test("ChatwireTransport: the reply to a sent message streams as chunks; abort sends chatwire's cancel", async () => {
  FakeSocket.all = [];
  const t = new ChatwireTransport({ url: "ws://chat.test/chat", client: { idleTimeoutMs: 0 } });
  const pending = t.sendMessages({ chatId: "c1", messages: [{ id: "u1", role: "user", parts: [{ type: "text", text: "hi" }] }], trigger: "submit-message", abortSignal: undefined });
  await tick();
  const s = FakeSocket.all[0];
  assert.equal(s.url.searchParams.get("sessionId"), "c1");
  s.open();
  s.frame(welcome());
  const stream = await pending;
  assert.deepEqual(s.sent[0], { id: "u1", type: "message", role: "user", content: "hi", timestamp: s.sent[0].timestamp });
  const reader = stream.getReader();
  s.frame(delta("other", 1, "", [{ type: "text-start", id: "t" }])); // a reply that started before our echo
  s.frame({ id: "u1", type: "message", role: "user", content: "hi", timestamp: 2 });
  s.frame(delta("x", 1, "", [{ type: "text-start", id: "t" }]));
  s.frame(delta("x", 2, "He", [{ type: "text-delta", id: "t", delta: "He" }]));
  s.frame(final("x", "done", "Hello", [{ type: "text", text: "Hello", state: "done" }]));
  const got = [];
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    got.push(value);
  }
  assert.deepEqual(got, [
    { type: "start", messageId: "x" }, { type: "text-start", id: "t" }, { type: "text-delta", id: "t", delta: "He" },
    { type: "text-delta", id: "t", delta: "llo" }, { type: "text-end", id: "t" }, { type: "finish" },
  ]);

  const ac = new AbortController();
  const second = await t.sendMessages({ chatId: "c1", messages: [{ id: "u2", role: "user", parts: [{ type: "text", text: "more" }] }], trigger: "submit-message", abortSignal: ac.signal });
  const r2 = second.getReader();
  s.frame({ id: "u2", type: "message", role: "user", content: "more", timestamp: 3 });
  s.frame(delta("y", 1, "", [{ type: "text-start", id: "t" }]));
  assert.equal((await r2.read()).value.type, "start");
  ac.abort();
  await assert.rejects(r2.read(), (e) => e.name === "AbortError");
  assert.deepEqual(s.sent.at(-1), { type: "system", content: "cancel", metadata: { stream: { id: "y", action: "cancel" } } });
  t.close();
});

test("ChatwireTransport.reconnectToStream: null when the welcome lists no stream; else the running reply from its start", async () => {
  FakeSocket.all = [];
  const t = new ChatwireTransport({ url: "ws://chat.test/chat", client: { idleTimeoutMs: 0 } });
  const none = t.reconnectToStream({ chatId: "c2" });
  await tick();
  FakeSocket.all[0].open();
  FakeSocket.all[0].frame(welcome([]));
  assert.equal(await none, null);
  t.close();

  FakeSocket.all = [];
  const t2 = new ChatwireTransport({ url: "ws://chat.test/chat", client: { idleTimeoutMs: 0 } });
  const some = t2.reconnectToStream({ chatId: "c3" });
  await tick();
  const s = FakeSocket.all[0];
  s.open();
  s.frame(welcome(["z"]));
  s.frame(delta("z", 4, "so far", [{ type: "text-start", id: "t" }, { type: "text-delta", id: "t", delta: "so far" }], true));
  const stream = await some;
  assert.ok(stream);
  const r = stream.getReader();
  assert.deepEqual((await r.read()).value, { type: "start", messageId: "z" });
  assert.deepEqual((await r.read()).value, { type: "text-start", id: "t" });
  assert.deepEqual((await r.read()).value, { type: "text-delta", id: "t", delta: "so far" });
  s.frame(final("z", "error", "so far", [{ type: "text", text: "so far", state: "done" }], { code: "STREAM_LOST" }));
  assert.deepEqual((await r.read()).value, { type: "text-end", id: "t" });
  assert.deepEqual((await r.read()).value, { type: "error", errorText: "The reply failed (STREAM_LOST)" });
  assert.deepEqual((await r.read()).value, { type: "finish", messageMetadata: { chatwire: { state: "error" } } });
  assert.equal((await r.read()).done, true);
  t2.close();
});

test("ChatwireTransport: with replyTo, only the reply to our message is ours, even when another starts after our echo", async () => {
  FakeSocket.all = [];
  const t = new ChatwireTransport({ url: "ws://chat.test/chat", client: { idleTimeoutMs: 0 } });
  const pending = t.sendMessages({ chatId: "c4", messages: [{ id: "u9", role: "user", parts: [{ type: "text", text: "hi" }] }], trigger: "submit-message" });
  await tick();
  const s = FakeSocket.all[0];
  s.open();
  s.frame(welcome());
  const r = (await pending).getReader();
  s.frame({ id: "u9", type: "message", role: "user", content: "hi", timestamp: 2 });
  const withReplyTo = (f, to) => ({ ...f, metadata: { stream: { ...f.metadata.stream, replyTo: to } } });
  s.frame(withReplyTo(delta("theirs", 1, "", [{ type: "text-start", id: "a" }]), "u8"));
  s.frame(withReplyTo(delta("mine", 1, "", [{ type: "text-start", id: "b" }]), "u9"));
  assert.deepEqual((await r.read()).value, { type: "start", messageId: "mine" });
  assert.deepEqual((await r.read()).value, { type: "text-start", id: "b" });
  t.close();
});

test("ChatwireTransport: a refused connection fails the request with the refusal's code; the next request tries again", async () => {
  FakeSocket.all = [];
  const t = new ChatwireTransport({ url: "ws://chat.test/chat", client: { idleTimeoutMs: 0 } });
  const req = () => t.sendMessages({ chatId: "c5", messages: [{ id: "u1", role: "user", parts: [{ type: "text", text: "hi" }] }], trigger: "submit-message" });
  const first = req();
  await tick();
  const s = FakeSocket.all[0];
  s.open();
  s.frame({ id: "r", type: "error", role: "system", content: "Unauthorized", metadata: { code: "UNAUTHENTICATED", status: 401, close: 4401 }, timestamp: 1 });
  s.drop(4401, "UNAUTHENTICATED");
  await assert.rejects(first, (e) => e.code === "UNAUTHENTICATED" && /refused/.test(e.message));
  const second = req(); // say, after signing in
  await tick();
  assert.equal(FakeSocket.all.length, 2, "the refused connection is retried");
  FakeSocket.all[1].open();
  FakeSocket.all[1].frame(welcome());
  const stream = await second;
  assert.ok(stream);
  assert.equal(FakeSocket.all[1].sent[0].id, "u1");
  t.close();
});

test("ChatwireTransport.subscribe: other tabs' messages and replies are announced; this tab's own reply is not", async () => {
  FakeSocket.all = [];
  const t = new ChatwireTransport({ url: "ws://chat.test/chat", client: { idleTimeoutMs: 0 } });
  const got = [];
  const unsubscribe = t.subscribe("c6", { onMessage: (m) => got.push(["message", m.id, m.role]), onStream: (id) => got.push(["stream", id]) });
  await tick();
  const s = FakeSocket.all[0];
  s.open();
  s.frame(welcome());
  s.frame({ id: "u-other", type: "message", role: "user", content: "from the other tab", timestamp: 1 });
  s.frame(delta("r-other", 1, "", [{ type: "text-start", id: "t" }]));
  s.frame(delta("r-other", 2, "a", [{ type: "text-delta", id: "t", delta: "a" }]));
  await tick();
  assert.deepEqual(got, [["message", "u-other", "user"], ["stream", "r-other"]]);
  // This tab's own request, answered with a plain (not streamed) message.
  const stream = await t.sendMessages({ chatId: "c6", messages: [{ id: "u-mine", role: "user", parts: [{ type: "text", text: "hi" }] }], trigger: "submit-message" });
  const r = stream.getReader();
  s.frame({ id: "u-mine", type: "message", role: "user", content: "hi", timestamp: 2 });
  s.frame({ id: "a-mine", type: "message", role: "assistant", content: "Echo: hi", timestamp: 3 });
  assert.deepEqual((await r.read()).value, { type: "start", messageId: "a-mine" });
  await tick();
  assert.deepEqual(got.slice(2), [["message", "u-mine", "user"]], "our reply goes to our request only");
  unsubscribe();
  s.frame({ id: "u-late", type: "message", role: "user", content: "x", timestamp: 4 });
  await tick();
  assert.equal(got.length, 3);
  t.close();
});

test("parts: an approval asked and answered moves the tool part through approval-requested and approval-responded; ChunkWriter asks ai 6 with tool-approval-request", async () => {
  FakeSocket.all = [];
  const chat = new ChatClient("ws://chat.test/chat", { sessionId: "s", idleTimeoutMs: 0 });
  const events = [];
  chat.addEventListener("stream", (e) => events.push(e.detail));
  await tick();
  const s = FakeSocket.all[0];
  s.open();
  s.frame(welcome());
  s.frame(delta("x", 1, "", [{ type: "tool-input-available", toolCallId: "c1", toolName: "send_mail", input: { to: "a" } }, { type: "tool-approval-request", approvalId: "ap1", toolCallId: "c1" }]));
  const asked = events.at(-1).parts[0];
  assert.equal(asked.state, "approval-requested");
  assert.deepEqual(asked.approval, { id: "ap1" });
  const w = new ChunkWriter("x");
  assert.deepEqual(w.update(events.at(-1).parts).slice(1), [
    { type: "tool-input-start", toolCallId: "c1", toolName: "send_mail" },
    { type: "tool-input-available", toolCallId: "c1", toolName: "send_mail", input: { to: "a" } },
    { type: "tool-approval-request", approvalId: "ap1", toolCallId: "c1" },
  ]);
  s.frame(delta("x", 2, "", [{ type: "tool-approval-response", approvalId: "ap1", toolCallId: "c1", approved: false, reason: "no" }, { type: "tool-output-denied", toolCallId: "c1" }]));
  const answered = events.at(-1).parts[0];
  assert.equal(answered.state, "output-denied");
  assert.deepEqual(answered.approval, { id: "ap1", approved: false, reason: "no" });
  assert.deepEqual(w.update(events.at(-1).parts), [{ type: "tool-output-denied", toolCallId: "c1" }]);
  chat.close();
});
