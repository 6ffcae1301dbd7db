// Tool approvals with the real AI SDK 6 (approvals need ai 6; ai 5 cannot take their chunks):
// the SSE stream that asks ends while the request waits, a resume meanwhile is 204, and the
// next POST (what useChat sends after addToolApprovalResponse) continues the same message on
// the other instance. Run with the suite: cd examples/e2e/aisdk/ai6 && npm ci && npm test
import * as ai from "ai";
import { WebSocket } from "ws";
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { startCluster, wsURL } from "../harness.mjs";
import { ChatwireTransport, loadUIMessages } from "../../../internal/demo/static/chatwire.js";

globalThis.WebSocket ??= WebSocket;
const TIMEOUT = 60000;

let cluster;
before(async () => {
  cluster = await startCluster();
}, { timeout: 180000 });
after(async () => {
  await cluster?.stop();
});

async function read(stream, message) {
  let last;
  let errored;
  for await (const m of ai.readUIMessageStream({ stream, message, terminateOnError: true, onError: (e) => { errored = e; } })) last = m;
  if (errored) throw errored;
  return last;
}

async function storedReply(base, chatId, id) {
  const deadline = Date.now() + TIMEOUT;
  for (;;) {
    const m = (await loadUIMessages({ url: wsURL(base), chatId })).find((x) => x.id === id);
    if (m) return m;
    if (Date.now() > deadline) throw new Error(`reply ${id} not stored`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

// comparable drops what only one side has: the approval's author and time (the server's
// record), undefined fields, and the reasoning id ai 6 copies onto the part.
const comparable = (parts) => JSON.parse(JSON.stringify(parts, (k, x) => {
  if (x && x.type === "reasoning" && "id" in x) return { ...x, id: undefined };
  if (k === "answeredBy" || k === "answeredAt") return undefined;
  return x;
}));

for (const approved of [true, false]) {
  test(`ai 6: SSE — tool approval (${approved ? "approved" : "denied"}) round trip across instances`, { timeout: TIMEOUT }, async () => {
    const chatId = randomUUID();
    const user = { id: randomUUID(), role: "user", parts: [{ type: "text", text: "roll the die if I approve" }] };
    const ta = new ai.DefaultChatTransport({ api: cluster.a + "/api/chat" });
    const asked = await read(await ta.sendMessages({ chatId, messages: [user], trigger: "submit-message", messageId: undefined, abortSignal: undefined }));
    const tool = asked.parts.find((p) => p.type === "tool-roll_die");
    assert.equal(tool?.state, "approval-requested", "the first stream ends with the call waiting for approval");
    assert.ok(tool.approval?.id);

    const tb = new ai.DefaultChatTransport({ api: cluster.b + "/api/chat" });
    assert.equal(await tb.reconnectToStream({ chatId }), null, "a resume while the request waits: 204");

    // What addToolApprovalResponse does to the message, then the request useChat sends.
    const answered = structuredClone(asked);
    const t = answered.parts.find((p) => p.type === "tool-roll_die");
    t.state = "approval-responded";
    t.approval = { id: tool.approval.id, approved, reason: approved ? "go ahead" : "not now" };
    t.input = { sides: 1000 }; // forged: the server runs what it asked about, never this
    const done = await read(
      await tb.sendMessages({ chatId, messages: [user, answered], trigger: "submit-message", messageId: answered.id, abortSignal: undefined }),
      answered,
    );
    assert.equal(done.id, asked.id, "the continuation is the same message");
    const end = done.parts.find((p) => p.type === "tool-roll_die");
    assert.equal(end.state, approved ? "output-available" : "output-denied");
    const stored = await storedReply(cluster.a, chatId, done.id);
    const st = stored.parts.find((p) => p.type === "tool-roll_die");
    assert.deepEqual(st.input, { sides: 6 }, "the stored input is the server's");
    assert.equal(st.approval.approved, approved);
    end.input = st.input; // the client keeps its own (forged) copy
    assert.deepEqual(comparable(done.parts), comparable(stored.parts));
  });
}

test("ai 6: WebSocket — ChatwireTransport: approval asked on one instance, answered through the other", { timeout: TIMEOUT }, async () => {
  const chatId = randomUUID();
  const user = { id: randomUUID(), role: "user", parts: [{ type: "text", text: "roll the die if I approve" }] };
  const ta = new ChatwireTransport({ url: wsURL(cluster.a) });
  const tb = new ChatwireTransport({ url: wsURL(cluster.b) });
  try {
    const asked = await read(await ta.sendMessages({ chatId, messages: [user], trigger: "submit-message", messageId: undefined, abortSignal: undefined }));
    const tool = asked.parts.find((p) => p.type === "tool-roll_die");
    assert.equal(tool?.state, "approval-requested", "the stream ends with the call waiting for approval");
    assert.equal(await tb.reconnectToStream({ chatId }), null, "a reply waiting for approval is not resumed");
    const answered = structuredClone(asked);
    const t = answered.parts.find((p) => p.type === "tool-roll_die");
    t.state = "approval-responded";
    t.approval = { id: tool.approval.id, approved: true, reason: "go ahead" };
    const done = await read(
      await tb.sendMessages({ chatId, messages: [user, answered], trigger: "submit-message", messageId: answered.id, abortSignal: undefined }),
      answered,
    );
    assert.equal(done.id, asked.id, "the continuation is the same message");
    assert.equal(done.parts.find((p) => p.type === "tool-roll_die").state, "output-available");
    const stored = await storedReply(cluster.b, chatId, done.id);
    assert.deepEqual(comparable(done.parts), comparable(stored.parts));
  } finally {
    ta.close();
    tb.close();
  }
});
