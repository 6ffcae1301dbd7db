// Unit tests of chatwire.js's conversation calls (PROTOCOL.md "Conversations") with Node's
// built-in test runner and a fake WebSocket: node --test examples/e2e/js/
import { test } from "node:test";
import assert from "node:assert/strict";
import { ChatClient } from "../../internal/demo/static/chatwire.js";

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
  open(sessionId) {
    this.readyState = FakeSocket.OPEN;
    this.onopen?.();
    this.frame(welcome(sessionId));
  }
  frame(obj) { this.onmessage?.({ data: JSON.stringify(obj) }); }
}
globalThis.WebSocket = FakeSocket;

const tick = () => new Promise((r) => setTimeout(r, 0));

function welcome(sessionId) {
  return {
    id: "w-" + Math.random(), type: "system", role: "system", content: "connected", timestamp: 1,
    metadata: { code: "WELCOME", sessionId, connectionId: "c1", stored: true, maxMessageSize: 65536, replayed: 0, streams: [] },
  };
}

function convFrame(conversation) {
  return { id: "f-" + Math.random(), type: "system", role: "system", content: "conversation " + conversation.event, timestamp: 1, metadata: { conversation } };
}

const entry = (id, lastActive, extra = {}) => ({ id, title: "", created: 1, lastActive, messages: 0, running: false, ...extra });

async function connected(sessionId = "a") {
  FakeSocket.all = [];
  const chat = new ChatClient("ws://example.test/chat", { sessionId });
  await tick();
  const ws = FakeSocket.all[0];
  ws.open(sessionId);
  return { chat, ws };
}

test("the list on connect and live changes keep the directory, newest first", async () => {
  const { chat, ws } = await connected();
  const lists = [];
  chat.addEventListener("conversations", (e) => lists.push(e.detail.list.map((c) => c.id)));
  ws.frame(convFrame({ event: "list", list: [entry("a", 20), entry("b", 10)] }));
  ws.frame(convFrame({ event: "created", ...entry("c", 30) }));
  ws.frame(convFrame({ event: "activity", ...entry("b", 40, { messages: 1 }) }));
  ws.frame(convFrame({ event: "started", ...entry("a", 20, { running: true }) }));
  ws.frame(convFrame({ event: "deleted", id: "c" }));
  assert.deepEqual(lists, [["a", "b"], ["c", "a", "b"], ["b", "c", "a"], ["b", "c", "a"], ["b", "a"]]);
  assert.equal(chat.conversations.get("a").running, true);
  assert.equal(chat.lastMessageId, "", "directory frames are never resume points");
  chat.close();
});

test("open switches: held sends go to the new conversation, the old one's state is forgotten", async () => {
  const { chat, ws } = await connected("a");
  ws.frame({ id: "m1", type: "message", role: "user", content: "in a", timestamp: 1 });
  assert.equal(chat.lastMessageId, "m1");
  const unconfirmed = chat.send("sent to a, echo not seen yet");
  const opening = chat.openConversation("b");
  const call = ws.sent.at(-1);
  assert.deepEqual(call.metadata, { conversation: { action: "open", id: "b" } });
  const held = chat.send("typed during the switch");
  assert.notEqual(ws.sent.at(-1).id, held.id, "a message typed during the switch waits");
  ws.frame(convFrame({ event: "opened", action: "open", ref: call.id, ...entry("b", 5) }));
  const opened = await opening;
  assert.equal(opened.id, "b");
  const messages = [];
  chat.addEventListener("message", (e) => messages.push(e.detail.id));
  ws.frame(welcome("b"));
  assert.equal(chat.sessionId, "b");
  assert.equal(chat.lastMessageId, "");
  assert.equal(ws.sent.at(-1).id, held.id, "the held message goes out after the new welcome");
  assert.ok(!chat.outbox.has(unconfirmed.id), "a message left in the old conversation leaves the outbox");
  ws.frame({ id: "m1", type: "message", role: "user", content: "b's history may repeat an id seen in a", timestamp: 1 });
  assert.deepEqual(messages, ["m1"]);
  chat.close();
});

test("a refused call rejects with the server's code and sends what it held", async () => {
  const { chat, ws } = await connected("a");
  const opening = chat.openConversation("someone-elses");
  const call = ws.sent.at(-1);
  const held = chat.send("after a refused switch");
  ws.frame({ id: "e1", type: "error", role: "system", content: "Conversation not found", timestamp: 1, metadata: { code: "SESSION_NOT_FOUND", conversation: { action: "open", ref: call.id } } });
  await assert.rejects(opening, (err) => err.code === "SESSION_NOT_FOUND");
  assert.equal(ws.sent.at(-1).id, held.id);
  assert.equal(chat.sessionId, "a");
  chat.close();
});

test("rename, clear, delete and list send their calls and resolve on the answer", async () => {
  const { chat, ws } = await connected("a");
  const renaming = chat.renameConversation("a", "Trip");
  let call = ws.sent.at(-1);
  assert.deepEqual(call.metadata.conversation, { action: "rename", id: "a", title: "Trip" });
  ws.frame(convFrame({ event: "done", action: "rename", ref: call.id, ...entry("a", 1, { title: "Trip" }) }));
  assert.equal((await renaming).title, "Trip");
  const listing = chat.listConversations("10:a");
  call = ws.sent.at(-1);
  assert.deepEqual(call.metadata.conversation, { action: "list", cursor: "10:a" });
  ws.frame(convFrame({ event: "list", ref: call.id, list: [entry("z", 1)], next: "" }));
  assert.deepEqual((await listing).conversations.map((c) => c.id), ["z"]);
  for (const [fn, action] of [["clearConversation", "clear"], ["deleteConversation", "delete"]]) {
    const p = chat[fn]("a");
    call = ws.sent.at(-1);
    assert.deepEqual(call.metadata.conversation, { action, id: "a" });
    ws.frame(convFrame({ event: "done", action, ref: call.id, ...entry("a", 1) }));
    await p;
  }
  chat.close();
  await assert.rejects(chat.listConversations(), (err) => err.code === "NOT_CONNECTED");
});
