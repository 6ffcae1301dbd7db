// Unit tests of chatwire.js's human-in-the-loop client side (answer frames, who answered),
// with a fake WebSocket playing the server (node --test examples/e2e/js/). The Go tests in
// adapters/adaptertest run the same frames against real servers.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ChatClient } from "../../internal/demo/static/chatwire.js";

class FakeSocket {
  static OPEN = 1;
  static CLOSED = 3;
  static all = [];
  constructor(url) {
    this.url = new URL(url);
    this.readyState = 0;
    this.sent = [];
    FakeSocket.all.push(this);
  }
  send(data) { this.sent.push(JSON.parse(data)); }
  close(code = 1000) { this.readyState = FakeSocket.CLOSED; this.closedWith = code; }
  open() { this.readyState = FakeSocket.OPEN; this.onopen?.(); }
  frame(obj) { this.onmessage?.({ data: JSON.stringify(obj) }); }
}
globalThis.WebSocket = FakeSocket;

const tick = () => new Promise((r) => setTimeout(r, 0));
const welcome = { id: "w1", type: "system", role: "system", content: "connected", metadata: { code: "WELCOME", sessionId: "s", connectionId: "c", replayed: 0, streams: [] }, timestamp: 1 };
const delta = (seq, chunks) => ({ id: `x:${seq}`, type: "typing", role: "assistant", content: "", timestamp: 7, metadata: { stream: { id: "x", seq, state: "delta", chunks } } });

test("hitl: answer sends one answer frame per call, only when connected; the answer's author and time reach the part", async () => {
  FakeSocket.all = [];
  const chat = new ChatClient("ws://chat.test/chat", { sessionId: "s", idleTimeoutMs: 0 });
  const events = [];
  const errors = [];
  chat.addEventListener("stream", (e) => events.push(e.detail));
  chat.addEventListener("error", (e) => errors.push(e.detail));
  await tick();
  const s = FakeSocket.all[0];
  assert.equal(chat.answer({ id: "ap1", approved: true }), false, "not connected yet");
  s.open();
  s.frame(welcome);
  s.frame(delta(1, [{ type: "tool-input-available", toolCallId: "c1", toolName: "deploy", input: {} }, { type: "tool-approval-request", approvalId: "ap1", toolCallId: "c1" }]));
  assert.equal(chat.answer({ id: "ap1", approved: true, reason: "ok" }), true);
  assert.equal(chat.answer({ id: "q1", action: "accept", content: { sides: 20 } }), true);
  assert.equal(chat.answer({}), false, "an answer needs an id");
  const answers = s.sent.filter((f) => f.metadata?.answer);
  assert.deepEqual(answers, [
    { type: "system", content: "answer", metadata: { answer: { id: "ap1", approved: true, reason: "ok" } } },
    { type: "system", content: "answer", metadata: { answer: { id: "q1", action: "accept", content: { sides: 20 } } } },
  ]);
  s.frame(delta(2, [{ type: "tool-approval-response", approvalId: "ap1", toolCallId: "c1", approved: true, answeredBy: "alice", answeredAt: 1764450000000 }]));
  assert.deepEqual(events.at(-1).parts[0].approval, { id: "ap1", approved: true, answeredBy: "alice", answeredAt: 1764450000000 });
  assert.equal(events.at(-1).parts[0].state, "approval-responded");
  // The loser of a race is told so by an error envelope naming the request.
  s.frame({ id: "e1", type: "error", role: "system", content: "The request was already answered", metadata: { code: "ALREADY_ANSWERED", answer: "ap1" }, timestamp: 8 });
  assert.equal(errors.at(-1).code, "ALREADY_ANSWERED");
  chat.close();
});
