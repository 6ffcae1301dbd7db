// Unit tests of examples/internal/demo/static/chatwire.js with Node's built-in test runner
// and a fake WebSocket (no browser, no dependencies): node --test examples/e2e/js/
import { test } from "node:test";
import assert from "node:assert/strict";
import { ChatClient, backoffDelay, streamIdOf, DEFAULTS } from "../../internal/demo/static/chatwire.js";

// FakeSocket records what the client sends and lets a test play the server.
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
  // server side: open() completes the upgrade and sends the welcome frame, as chatwire does
  open(welcome = {}) {
    this.readyState = FakeSocket.OPEN;
    this.onopen?.();
    if (welcome) this.frame(welcomeFrame({ sessionId: this.url.searchParams.get("sessionId") || "server-made", ...welcome }));
  }
  frame(obj) { this.onmessage?.({ data: typeof obj === "string" ? obj : JSON.stringify(obj) }); }
  drop(code = 1006, reason = "") { this.readyState = FakeSocket.CLOSED; this.onclose?.({ code, reason }); }
}
globalThis.WebSocket = FakeSocket;

const tick = () => new Promise((r) => setTimeout(r, 0));

// welcomeFrame is the server's first frame (PROTOCOL.md, "The welcome frame").
function welcomeFrame(meta) {
  return {
    id: "w-" + Math.random(), type: "system", role: "system", content: "connected", timestamp: 1,
    metadata: { code: "WELCOME", connectionId: "c-" + FakeSocket.all.length, stored: true, maxMessageSize: 65536, replayed: 0, streams: [], ...meta },
  };
}

// start returns a connected client, the events it emitted, and a helper for the latest socket.
async function start(options = {}) {
  FakeSocket.all = [];
  const chat = new ChatClient("ws://chat.test/chat", { idleTimeoutMs: 0, minBackoffMs: 1, maxBackoffMs: 1, ...options });
  const events = [];
  for (const type of ["state", "message", "stream", "streamend", "error", "gap", "welcome", "outbox", "failed", "reset"]) {
    chat.addEventListener(type, (e) => events.push({ ...e.detail, type, detail: e.detail }));
  }
  await tick(); // the client connects in a microtask, after listeners are added
  const sock = () => FakeSocket.all[FakeSocket.all.length - 1];
  sock().open();
  return { chat, events, sock };
}

const msg = (id, content, extra = {}) => ({ id, type: "message", role: "assistant", content, timestamp: 1, ...extra });
const delta = (sid, seq, content, resume = false) => ({
  id: `${sid}:${seq}${resume ? ":resume" : ""}`, type: "typing", role: "assistant", content, timestamp: 1,
  metadata: { stream: { id: sid, seq, state: "delta", ...(resume ? { resume: true } : {}) } },
});
const final = (sid, state, content, code) => ({
  id: sid, type: "message", role: "assistant", content, timestamp: 2,
  metadata: { stream: { id: sid, seq: 99, state }, ...(code ? { code } : {}) },
});

test("the first state events reach listeners added after construction", async () => {
  const { events, chat } = await start({ sessionId: "s1" });
  assert.deepEqual(events.filter((e) => e.type === "state").map((e) => e.state), ["connecting", "connected"]);
  assert.equal(FakeSocket.all[0].url.searchParams.get("sessionId"), "s1");
  assert.equal(FakeSocket.all[0].url.searchParams.has("lastMessageId"), false);
  chat.close();
});

test("without a session id the welcome frame names it, and reconnects resume it", async () => {
  const { chat, sock, events } = await start();
  assert.equal(FakeSocket.all[0].url.searchParams.has("sessionId"), false);
  assert.equal(FakeSocket.all[0].url.searchParams.get("refusal"), "close");
  assert.equal(chat.sessionId, "server-made");
  const w = events.find((e) => e.type === "welcome");
  assert.equal(w.sessionId, "server-made");
  assert.equal(w.connectionId, "c-1");
  assert.ok(!events.some((e) => e.type === "message"), "the welcome is not a message");
  assert.equal(chat.lastMessageId, "", "the welcome's id is never a resume point");
  sock().drop(1006);
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(sock().url.searchParams.get("sessionId"), "server-made");
  chat.close();
});

test("the outbox: sent on connect, resent until the echo confirms it, failures reported", async () => {
  const { chat, sock, events } = await start({ sessionId: "ob" });
  sock().drop(1006);
  const queued = chat.send("while offline");
  assert.ok(queued, "send queues while disconnected");
  assert.equal(events.findLast((e) => e.type === "outbox").size, 1);
  await new Promise((r) => setTimeout(r, 10));
  const s2 = sock();
  assert.equal(s2.sent.length, 0, "nothing is written before the welcome");
  s2.open();
  assert.deepEqual(s2.sent.map((m) => m.id), [queued.id]);
  s2.drop(1006); // no echo yet: sent again, with the same id, on the next connection
  await new Promise((r) => setTimeout(r, 10));
  const s3 = sock();
  s3.open();
  assert.deepEqual(s3.sent.map((m) => m.id), [queued.id]);
  s3.frame({ ...queued, timestamp: 5 }); // the echo: stored
  assert.equal(chat.outbox.size, 0);
  assert.equal(events.findLast((e) => e.type === "outbox").size, 0);

  const big = chat.send("x".repeat(70000));
  assert.equal(s3.sent.length, 1, "a message above maxMessageSize is not sent");
  assert.ok(!events.some((e) => e.type === "failed"), "the failure is reported after send() returned");
  await tick();
  let failed = events.findLast((e) => e.type === "failed");
  assert.equal(failed.id, big.id);
  assert.equal(failed.code, "MESSAGE_TOO_LARGE");
  assert.equal(failed.message, "Message exceeds maximum size of 65536 bytes");

  const limited = chat.send("too fast");
  s3.frame({ id: "e1", type: "error", role: "system", content: "Slow down", metadata: { code: "RATE_LIMITED", messageId: limited.id }, timestamp: 1 });
  failed = events.findLast((e) => e.type === "failed");
  assert.equal(failed.id, limited.id);
  assert.equal(failed.code, "RATE_LIMITED");
  assert.ok(!events.some((e) => e.type === "error"), "an error about our message is a failure, not a loose error");
  assert.equal(chat.outbox.size, 0);
  chat.close();
});

test("refusals: permanent ones stop in state refused, others are retried; retry() starts again", async () => {
  const refuse = (s, code, status, text) => {
    s.readyState = FakeSocket.OPEN;
    s.onopen?.();
    s.frame({ id: "r", type: "error", role: "system", content: text, metadata: { code, status, close: 4000 + status }, timestamp: 1 });
    s.drop(4000 + status, code);
  };
  FakeSocket.all = [];
  const chat = new ChatClient("ws://chat.test/chat", { idleTimeoutMs: 0, minBackoffMs: 1, maxBackoffMs: 1 });
  const states = [];
  chat.addEventListener("state", (e) => states.push(e.detail));
  await tick();
  refuse(FakeSocket.all[0], "TOO_MANY_CONNECTIONS", 429, "Too many connections");
  assert.equal(states.at(-1).state, "waiting");
  assert.equal(states.at(-1).refusal.code, "TOO_MANY_CONNECTIONS");
  assert.ok(!states.some((s) => s.state === "connected"), "a refused upgrade is never reported as connected");
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(FakeSocket.all.length, 2);
  refuse(FakeSocket.all[1], "UNAUTHENTICATED", 401, "Unauthorized");
  assert.equal(states.at(-1).state, "refused");
  assert.deepEqual(states.at(-1).refusal, { code: "UNAUTHENTICATED", status: 401, closeCode: 4401, message: "Unauthorized", permanent: true });
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(FakeSocket.all.length, 2, "a permanent refusal is not retried");
  assert.equal(chat.send("x"), null);
  chat.retry();
  assert.equal(FakeSocket.all.length, 3);
  refuse(FakeSocket.all[2], "SESSION_NOT_FOUND", 404, "SESSION_NOT_FOUND");
  assert.equal(states.at(-1).state, "refused");
  assert.equal(states.at(-1).refusal.code, "SESSION_NOT_FOUND");
  chat.retry();
  FakeSocket.all[3].drop(4403, "FORBIDDEN"); // a close frame without the envelope is enough
  assert.equal(states.at(-1).refusal.code, "FORBIDDEN");
  assert.equal(states.at(-1).state, "refused");
  chat.close();
});

test("duplicates are dropped and only stored envelopes set lastMessageId", async () => {
  const { chat, events, sock } = await start({ sessionId: "s" });
  const s = sock();
  s.frame({ type: "ping" });
  s.frame("not json");
  s.frame(msg("a", "one"));
  s.frame(msg("a", "one"));
  s.frame({ id: "t", type: "typing", role: "user", content: "", timestamp: 1 });
  s.frame({ id: "e", type: "error", role: "system", content: "nope", metadata: { code: "RATE_LIMITED" }, timestamp: 1 });
  s.frame({ id: "g", type: "system", role: "system", content: "gap", metadata: { code: "REPLAY_GAP", reason: "unknown_id" }, timestamp: 1 });
  assert.equal(chat.lastMessageId, "a");
  assert.deepEqual(events.filter((e) => e.type !== "state").map((e) => e.type), ["welcome", "message", "message", "error", "gap"]);
  assert.equal(events.find((e) => e.type === "error").code, "RATE_LIMITED");
  chat.close();
});

test("HISTORY_RESET forgets seen ids and lastMessageId, and the next connection sends the new epoch", async () => {
  const { chat, events, sock } = await start({ sessionId: "s" });
  sock().frame(msg("a", "one"));
  sock().frame({ id: "r", type: "system", role: "system", content: "reset", metadata: { code: "HISTORY_RESET", epoch: "e2" }, timestamp: 1 });
  assert.equal(chat.lastMessageId, "");
  sock().frame(msg("a", "one again")); // the new history may repeat an id
  assert.deepEqual(events.filter((e) => e.type !== "state" && e.type !== "welcome").map((e) => e.type), ["message", "reset", "message"]);
  assert.equal(chat.lastMessageId, "a");
  sock().drop();
  await new Promise((r) => setTimeout(r, 20));
  const next = FakeSocket.all[FakeSocket.all.length - 1].url.searchParams;
  assert.equal(next.get("lastMessageId"), "a");
  assert.equal(next.get("epoch"), "e2");
  chat.close();
});

test("the welcome frame's epoch is sent back with lastMessageId", async () => {
  const { chat, sock } = await start({ sessionId: "s" });
  sock().drop();
  await new Promise((r) => setTimeout(r, 20));
  sock().open({ epoch: "e7" });
  sock().frame(msg("b", "two"));
  sock().drop();
  await new Promise((r) => setTimeout(r, 20));
  const next = FakeSocket.all[FakeSocket.all.length - 1].url.searchParams;
  assert.equal(next.get("lastMessageId"), "b");
  assert.equal(next.get("epoch"), "e7");
  chat.close();
});

test("streams are assembled by seq; resume replaces; the final message ends them", async () => {
  const { chat, events, sock } = await start();
  const s = sock();
  s.frame(delta("x", 1, ""));
  s.frame(delta("x", 2, "a "));
  s.frame(delta("x", 2, "a ")); // already applied
  s.frame(delta("x", 4, "b c ")); // coalesced
  s.frame({ id: "tc", type: "tool_call", role: "assistant", content: "{}", metadata: { stream: { id: "x" } }, timestamp: 1 });
  s.frame(delta("x", 6, "a b c d e ", true));
  s.frame(delta("x", 5, "d ")); // stale
  s.frame(final("x", "done", "a b c d e f"));
  s.frame(delta("x", 7, "late")); // after the end
  s.frame(final("x", "done", "a b c d e f")); // replayed
  const streamEvents = events.filter((e) => e.type === "stream" || e.type === "streamend");
  assert.deepEqual(streamEvents.map((e) => [e.type, e.text, e.replaced]), [
    ["stream", "", false],
    ["stream", "a ", false],
    ["stream", "a b c ", false],
    ["stream", "a b c d e ", true],
    ["streamend", "a b c d e f", false],
  ]);
  assert.equal(streamEvents.at(-1).delta, "f");
  assert.equal(streamIdOf(events.find((e) => e.type === "message").detail), "x");
  assert.equal(chat.lastMessageId, "x");
  assert.equal(chat.streams.size, 0);
  chat.close();
});

test("a failed stream carries its code", async () => {
  const { chat, events, sock } = await start();
  sock().frame(delta("y", 1, ""));
  sock().frame(final("y", "error", "", "STREAM_LOST"));
  const end = events.find((e) => e.type === "streamend");
  assert.equal(end.state, "error");
  assert.equal(end.code, "STREAM_LOST");
  chat.close();
});

test("reconnects with lastMessageId after a drop, and resumes a stream", async () => {
  const { chat, events, sock } = await start({ sessionId: "r" });
  sock().frame(msg("m1", "hello"));
  sock().frame(delta("z", 1, ""));
  sock().frame(delta("z", 2, "so far "));
  sock().drop(1012, "restart");
  const waiting = events.findLast((e) => e.type === "state");
  assert.equal(waiting.state, "waiting");
  assert.equal(waiting.code, 1012);
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(FakeSocket.all.length, 2);
  const s2 = sock();
  assert.equal(s2.url.searchParams.get("lastMessageId"), "m1");
  s2.open();
  s2.frame(msg("m1", "hello")); // a server replaying too much: dropped
  s2.frame(delta("z", 5, "so far and more ", true));
  s2.frame(final("z", "done", "so far and more."));
  assert.equal(events.filter((e) => e.type === "message").length, 1);
  assert.deepEqual(events.filter((e) => e.type === "streamend").map((e) => e.text), ["so far and more."]);
  chat.close();
});

test("close stops for good; protocol errors stop; maxAttempts gives up", async () => {
  let { chat, events, sock } = await start();
  const s = sock();
  chat.close();
  assert.equal(s.closedWith, 1000);
  assert.equal(events.at(-1).state, "closed");
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(FakeSocket.all.length, 1);
  assert.equal(chat.send("late"), null);

  ({ chat, events, sock } = await start());
  sock().drop(1002);
  assert.equal(events.at(-1).state, "closed");

  ({ chat, events, sock } = await start({ maxAttempts: 2 }));
  sock().drop(1006);
  await new Promise((r) => setTimeout(r, 5));
  sock().drop(1006);
  await new Promise((r) => setTimeout(r, 5));
  sock().drop(1006);
  assert.equal(events.at(-1).state, "closed");
  assert.match(events.at(-1).reason, /gave up after 2 attempts/);
});

test("send and cancelStream write the protocol's frames", async () => {
  const { chat, sock } = await start();
  const sent = chat.send("hi");
  assert.equal(sent.role, "user");
  assert.equal(sent.type, "message");
  assert.ok(chat.cancelStream("st-1"));
  assert.deepEqual(sock().sent[1], { type: "system", content: "cancel", metadata: { stream: { id: "st-1", action: "cancel" } } });
  assert.equal(chat.cancelStream(""), false);
  chat.close();
});

test("an idle connection is replaced", async () => {
  const { chat, events } = await start({ idleTimeoutMs: 5 });
  await new Promise((r) => setTimeout(r, 30));
  assert.ok(events.some((e) => e.type === "state" && e.state === "waiting" && e.reason === "idle timeout"));
  assert.equal(FakeSocket.all[0].closedWith, 4000);
  chat.close();
});

test("backoff: full jitter below min(max, min * 2^attempt)", () => {
  const at = (r) => ({ ...DEFAULTS, random: () => r });
  assert.equal(backoffDelay(0, at(0.5)), 125);
  assert.equal(backoffDelay(3, at(0.5)), 1000);
  assert.equal(backoffDelay(10, at(0.5)), 15000);
  assert.equal(backoffDelay(1e6, at(0.5)), 15000);
  assert.equal(backoffDelay(2, at(0)), 0);
  assert.ok(backoffDelay(0, at(1)) < 250);
  assert.ok(backoffDelay(0, at(7)) < 250);
  assert.equal(backoffDelay(0, at(-1)), 0);
  assert.equal(backoffDelay(0, at(NaN)), 0);
  assert.equal(backoffDelay(5, { minBackoffMs: 1000, maxBackoffMs: 10, random: () => 0.5 }), 500);
  for (let attempt = 0; attempt < 10; attempt++) {
    const cap = Math.min(30000, 250 * 2 ** attempt);
    for (let i = 0; i < 200; i++) {
      const d = backoffDelay(attempt);
      assert.ok(d >= 0 && d < cap, `attempt ${attempt}: ${d} outside [0, ${cap})`);
    }
  }
});
