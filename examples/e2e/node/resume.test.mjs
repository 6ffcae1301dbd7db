// A chatwire client written from PROTOCOL.md alone (no other chatwire source was read to
// write it), run against a running example server: CHATWIRE_URL=ws://127.0.0.1:PORT/chat
// node --test examples/e2e/node/ (.ci/node-client.sh starts examples/nethttp and runs it).
//
// It proves the document is enough to resume a session the client did not name: connect
// without sessionId, learn the session from the welcome frame, go away, and come back with
// ?sessionId= and ?lastMessageId= to get exactly what was missed.
import { test } from "node:test";
import assert from "node:assert/strict";
import WebSocket from "ws";

const BASE = process.env.CHATWIRE_URL;
const WAIT_MS = 10000;
const TYPE_LIST = ". Expected one of: message, typing, error, tool_call, tool_result, system";

// connect opens a WebSocket to the chat endpoint with the given query parameters and
// queues every envelope it receives. Heartbeats ({"type":"ping"}, the only frame that is not
// an envelope) are skipped, as PROTOCOL.md says clients do.
function connect(query = {}) {
  const url = new URL(BASE);
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
  const ws = new WebSocket(url);
  const frames = [];
  const waiters = [];
  let closed = null;
  ws.on("message", (data) => {
    const msg = JSON.parse(data.toString("utf8"));
    if (msg.type === "ping" && msg.id === undefined) return;
    frames.push(msg);
    while (waiters.length && frames.length) waiters.shift().resolve(frames.shift());
  });
  ws.on("close", (code, reason) => {
    closed = { code, reason: reason.toString() };
    for (const w of waiters.splice(0)) w.reject(new Error(`closed with ${code} while waiting for a frame`));
  });
  const opened = new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
    ws.once("unexpected-response", (_req, res) => reject(new Error(`upgrade refused with HTTP ${res.statusCode}`)));
  });
  return {
    opened,
    // next resolves with the next envelope.
    next() {
      if (frames.length) return Promise.resolve(frames.shift());
      if (closed) return Promise.reject(new Error(`closed with ${closed.code}`));
      return new Promise((resolve, reject) => {
        const w = { resolve, reject };
        waiters.push(w);
        setTimeout(() => {
          const i = waiters.indexOf(w);
          if (i >= 0) {
            waiters.splice(i, 1);
            reject(new Error(`no frame within ${WAIT_MS} ms`));
          }
        }, WAIT_MS).unref();
      });
    },
    send(obj) { ws.send(typeof obj === "string" ? obj : JSON.stringify(obj)); },
    close() {
      return new Promise((resolve) => {
        if (closed) return resolve(closed);
        ws.once("close", (code) => resolve({ code }));
        ws.close(1000);
      });
    },
  };
}

// welcome reads the first frame, which PROTOCOL.md says is the welcome frame.
async function welcome(c) {
  await c.opened;
  const w = await c.next();
  assert.equal(w.type, "system", "the first frame is a system envelope");
  assert.equal(w.role, "system");
  assert.equal(w.metadata?.code, "WELCOME");
  assert.equal(typeof w.metadata.sessionId, "string");
  assert.ok(Array.isArray(w.metadata.streams));
  return w.metadata;
}

// chat sends a user message and returns [its stored echo, the bot's reply].
async function chat(c, id, content) {
  c.send({ id, type: "message", content });
  const echo = await c.next();
  assert.equal(echo.id, id, "the sender receives its stored message first");
  assert.equal(echo.role, "user");
  const reply = await c.next();
  assert.equal(reply.role, "assistant");
  return [echo, reply];
}

test("PROTOCOL.md is enough to resume a session the client did not name", { skip: !BASE && !process.env.CI && "CHATWIRE_URL is not set (.ci/node-client.sh sets it)" }, async () => {
  const run = Date.now().toString(36);

  // 1. Connect without a session id: the welcome frame names the session the server made.
  const first = connect();
  const w1 = await welcome(first);
  const sessionId = w1.sessionId;
  assert.match(sessionId, /^[A-Za-z0-9\-_.:]{1,128}$/);
  assert.equal(w1.stored, true, "the example keeps sessions");
  const [, reply1] = await chat(first, `n1-${run}`, "hello from node");
  assert.equal(reply1.content, "Echo: hello from node");
  const lastSeen = reply1.id; // the last stored message: the resume point
  await first.close();

  // 2. While it is away, someone else writes in that session.
  const other = connect({ sessionId });
  assert.equal((await welcome(other)).sessionId, sessionId);
  const [missedEcho, missedReply] = await chat(other, `n2-${run}`, "while you were away");
  await other.close();

  // 3. Come back: same session, after the last stored message seen. Exactly what was missed
  //    is replayed, in order, announced by the welcome's "replayed".
  const back = connect({ sessionId, lastMessageId: lastSeen });
  const w3 = await welcome(back);
  assert.equal(w3.sessionId, sessionId);
  assert.equal(w3.replayed, 2);
  assert.deepEqual([(await back.next()).id, (await back.next()).id], [missedEcho.id, missedReply.id]);

  // 4. Retrying a message with an id already stored is safe: it is not stored or answered
  //    again; the next new message is.
  back.send({ id: `n1-${run}`, type: "message", content: "hello from node" });
  const [echo3] = await chat(back, `n3-${run}`, "and now");
  assert.equal(echo3.id, `n3-${run}`, "the retried id was not echoed again");

  // 5. A frame the server cannot accept gets the documented error text, connection open.
  back.send('{"type":1.50,"content":"x"}');
  const err = await back.next();
  assert.equal(err.type, "error");
  assert.equal(err.metadata.code, "INVALID_MESSAGE");
  assert.equal(err.content, "Invalid message type: 1.50" + TYPE_LIST);
  await back.close();
});

test("a refusal can be read over the WebSocket with refusal=close", { skip: !BASE && !process.env.CI && "CHATWIRE_URL is not set (.ci/node-client.sh sets it)" }, async () => {
  // An invalid session id is refused; with refusal=close the refusal arrives as an error
  // envelope with its code, then a close frame 4000 + the HTTP status.
  const c = connect({ sessionId: "not a valid id", refusal: "close" });
  await c.opened;
  const env = await c.next();
  assert.equal(env.type, "error");
  assert.deepEqual(env.metadata, { code: "INVALID_REQUEST", status: 400, close: 4400 });
  assert.equal(env.content, "Invalid sessionId");
  const closed = await c.close();
  assert.equal(closed.code, 4400);
});
