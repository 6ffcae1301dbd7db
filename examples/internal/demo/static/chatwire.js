// chatwire.js: a dependency-free browser client for chatwire servers (an ES module). It
// follows PROTOCOL.md as the Go client (github.com/chatwire/chatwire/client) does.
//
//   import { ChatClient } from "/chatwire.js";
//   const chat = new ChatClient("/chat", { sessionId: "demo" });
//   chat.addEventListener("state", (e) => badge(e.detail.state));       // connecting, connected, waiting, refused, closed
//   chat.addEventListener("message", (e) => render(e.detail));          // stored envelopes (your own echoed back)
//   chat.addEventListener("stream", (e) => grow(e.detail.id, e.detail.text));
//   chat.addEventListener("streamend", (e) => finish(e.detail.id, e.detail.text, e.detail.state));
//   chat.send("hello");
//   chat.cancelStream(streamId);
//
// What it does:
//   - reconnects after any close but close() (and the protocol-error codes 1002, 1003, 1007,
//     1010), waiting a random delay below min(maxBackoffMs, minBackoffMs * 2^attempt)
//     ("full jitter"); the attempt count starts over once a connection stayed up for
//     stableAfterMs;
//   - resumes: every connection names the same session (the one given, or the one the server
//     named in the welcome frame that starts every connection) and sends lastMessageId, the
//     id of the last stored message received (never a typing, error, welcome or REPLAY_GAP
//     envelope);
//   - asks for refusals as frames (refusal=close, PROTOCOL.md "Refusals"): a refusal that will
//     not change by itself (4400-4499 but 4408 and 4429: unauthenticated, forbidden, session
//     not found) stops the client in state "refused"; the others (too many connections,
//     draining, store unavailable) are retried like outages; retry() starts again;
//   - keeps an outbox: send() while disconnected queues the message, and every message not
//     yet confirmed by the server's echo (session mode) is sent again, with the same id, on
//     the next connection (the server stores and handles an id once); a message the server
//     (or the welcome's maxMessageSize) refuses is reported as "failed";
//   - drops duplicate envelopes by id;
//   - assembles streamed replies: deltas by seq, a resume frame replaces the text, the final
//     message replaces it again and ends the stream; their parts (reasoning, tool calls,
//     sources, files, data, steps, text: the AI SDK's UIMessage parts) from the frames'
//     chunks (PROTOCOL.md, "Parts");
//   - ignores heartbeats ({"type":"ping"}; the browser answers ping control frames) and
//     replaces a connection that receives nothing for idleTimeoutMs.
//
// Events (CustomEvent; the payload is in event.detail):
//   state      {state, attempt, delayMs, code, reason, refusal}: refusal is set for "refused"
//              (and for "waiting" after a refusal that is retried)
//   welcome    {sessionId, connectionId, stored, maxMessageSize, replayed, streams}: the first
//              frame of every connection
//   outbox     {size}: messages waiting to be sent or confirmed
//   failed     {id, code, message, envelope}: a sent message was refused (too large, rate
//              limited, not stored...); it is no longer in the outbox
//   message    the envelope: chat messages, tool_call / tool_result (streamIdOf(envelope)
//              links one to its stream), system notes, typing indicators that are not deltas
//   stream     {id, role, text, delta, replaced, seq, state: "delta", parts, messageMetadata,
//              replyTo, started}: a streamed reply grew (the first event, seq 1, has empty
//              text); parts are UIMessage parts (a tool part whose input still streams has
//              inputText), replyTo the id of the message it answers
//   streamend  {id, role, text, delta, replaced, seq, state, code, message, parts, ...}: state
//              is "done", "cancelled" or "error" (code says why, e.g. STREAM_LOST); parts are
//              the stored ones
//
// For the Vercel AI SDK (useChat) it also exports ChatwireTransport (a ChatTransport over
// this WebSocket), loadUIMessages (the stored conversation as UIMessages), toUIMessage and
// ChunkWriter: see "AI replies as parts" below.
//   error      {code, message, envelope}: an error envelope; the connection stays open
//   gap        the REPLAY_GAP envelope: some history could not be replayed
//   reset      the HISTORY_RESET envelope: the server lost the session's history and started
//              a new one (PROTOCOL.md). Drop every message shown; what follows is the whole
//              retained new history, then live messages. The client already forgot its
//              lastMessageId and sends the new epoch with the next one.
//   conversation  {event, entry, list, next, action, ref}: the owner's conversation directory
//              changed ("created", "renamed", "cleared", "deleted", "activity", "started",
//              "ended"), a page of it arrived ("list"), the connection now shows another
//              conversation ("opened"), or a call succeeded ("done"). See "Conversations" below.
//   conversations  {list}: the directory as this client knows it, newest first (after every
//              conversation event)

export const DEFAULTS = Object.freeze({
  sessionId: "",          // "" = the server makes one and names it in its welcome frame (see .sessionId)
  refusals: true,         // ask for refusals as frames + 44xx/45xx close codes (refusal=close)
  lastMessageId: "",      // resume after this id on the first connection
  epoch: "",              // the history epoch lastMessageId belongs to (from a HISTORY_RESET)
  history: false,         // with no lastMessageId yet, ask for the whole retained history (history=all)
  minBackoffMs: 250,      // the cap of the first wait
  maxBackoffMs: 30000,    // the largest cap
  stableAfterMs: 5000,    // a connection up this long resets the attempt count
  maxAttempts: 0,         // failed attempts in a row before giving up; 0 = never give up
  idleTimeoutMs: 70000,   // nothing received for this long = a dead connection; 0 disables
  maxSeenIds: 5000,       // envelope ids remembered to drop duplicates
  random: Math.random,    // the jitter's random source, in [0, 1)
});

// Close codes after which reconnecting would repeat the failure: the client broke the protocol.
const PERMANENT_CLOSE = new Set([1002, 1003, 1007, 1010]);

// backoffDelay returns the wait before reconnect attempt n (0 for the first attempt after a
// connection ended): a random value in [0, min(maxBackoffMs, minBackoffMs * 2^n)).
export function backoffDelay(attempt, opts = DEFAULTS) {
  const min = opts.minBackoffMs > 0 ? opts.minBackoffMs : DEFAULTS.minBackoffMs;
  const max = Math.max(min, opts.maxBackoffMs > 0 ? opts.maxBackoffMs : DEFAULTS.maxBackoffMs);
  const cap = Math.min(max, min * 2 ** Math.min(Math.max(attempt, 0), 52));
  let r = (opts.random || Math.random)();
  if (!(r >= 0)) r = 0;
  if (r >= 1) r = 1 - Number.EPSILON;
  return r * cap;
}

// streamIdOf returns the id of the stream an envelope belongs to ("" for none).
export function streamIdOf(msg) {
  const s = msg && msg.metadata && msg.metadata.stream;
  return s && typeof s.id === "string" ? s.id : "";
}

function randomId() {
  if (globalThis.crypto && crypto.randomUUID) return crypto.randomUUID();
  return "id-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2);
}

const FINAL_STATES = new Set(["done", "cancelled", "error"]);

// isRefusalClose reports close codes that carry a refusal: 4000 + an HTTP status 400-599.
export function isRefusalClose(code) {
  return Number.isInteger(code) && code >= 4400 && code <= 4599;
}

// refusalOf describes a refusal. It is permanent (retrying cannot help) for 4400-4499 but
// 4408 and 4429, as for HTTP 4xx statuses.
export function refusalOf(closeCode, code, message) {
  const status = closeCode - 4000;
  return {
    code: code || "REFUSED", status, closeCode, message: message || "",
    permanent: status >= 400 && status < 500 && status !== 408 && status !== 429,
  };
}

export class ChatClient extends EventTarget {
  constructor(url, options = {}) {
    super();
    this.opts = { ...DEFAULTS, ...options };
    this.url = url;
    this.sessionId = this.opts.sessionId || "";
    this.connectionId = "";
    this.welcome = null;     // the current connection's welcome metadata
    this.refusal = null;     // the last refusal: {code, status, closeCode, message, permanent}
    this.outbox = new Map(); // id -> envelope sent or waiting, not yet confirmed
    this.lastMessageId = this.opts.lastMessageId || "";
    this.epoch = this.opts.epoch || "";
    this.state = "idle";
    this.streams = new Map(); // running streams: id -> {id, role, text, seq}
    this.attempt = 0;
    this.closed = false;
    this.ws = null;
    this.timer = null;
    this.idleTimer = null;
    this.openedAt = 0;
    this.seen = new Set();
    this.seenOrder = [];
    this.initConversations();
    this.onOnline = () => {
      // The network is back: do not sit out the rest of a long wait.
      if (this.state === "waiting") {
        clearTimeout(this.timer);
        this.connect();
      }
    };
    if (typeof window !== "undefined") window.addEventListener("online", this.onOnline);
    // Connect once the caller's synchronous code has added its listeners, so that they see
    // every event, the first "connecting" included.
    queueMicrotask(() => this.connect());
  }

  // wsURL is the URL of the next connection.
  wsURL() {
    const base = typeof location !== "undefined" ? location.href : undefined;
    const u = new URL(this.url, base);
    if (u.protocol === "http:") u.protocol = "ws:";
    if (u.protocol === "https:") u.protocol = "wss:";
    if (this.sessionId) u.searchParams.set("sessionId", this.sessionId);
    else u.searchParams.delete("sessionId"); // the welcome frame names the one the server makes
    if (this.opts.refusals) u.searchParams.set("refusal", "close");
    if (this.lastMessageId) u.searchParams.set("lastMessageId", this.lastMessageId);
    else u.searchParams.delete("lastMessageId");
    if (this.lastMessageId && this.epoch) u.searchParams.set("epoch", this.epoch);
    else u.searchParams.delete("epoch");
    if (this.opts.history && !this.lastMessageId) u.searchParams.set("history", "all");
    else u.searchParams.delete("history");
    return u.toString();
  }

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  setState(state, detail = {}) {
    this.state = state;
    this.emit("state", { state, attempt: this.attempt, ...detail });
  }

  connect() {
    if (this.closed) return;
    this.setState("connecting");
    let ws;
    try {
      ws = new WebSocket(this.wsURL());
    } catch (err) {
      this.connectionEnded(null, 1006, String(err));
      return;
    }
    this.ws = ws;
    this.welcome = null;
    ws.onopen = () => {
      if (this.ws !== ws) return;
      this.openedAt = Date.now();
      this.touch(); // "connected" is reported with the welcome frame: the server accepted
    };
    ws.onmessage = (ev) => {
      if (this.ws !== ws) return;
      this.touch();
      this.onFrame(ev.data);
    };
    ws.onclose = (ev) => this.connectionEnded(ws, ev.code, ev.reason);
  }

  // touch restarts the idle timer: the connection showed a sign of life.
  touch() {
    clearTimeout(this.idleTimer);
    if (this.opts.idleTimeoutMs > 0) {
      const ws = this.ws;
      this.idleTimer = setTimeout(() => {
        try { ws.close(4000, "idle"); } catch { /* already closing */ }
        this.connectionEnded(ws, 1006, "idle timeout");
      }, this.opts.idleTimeoutMs);
    }
  }

  connectionEnded(ws, code, reason) {
    if (ws !== this.ws) return; // an old connection, already handled
    this.ws = null;
    clearTimeout(this.idleTimer);
    if (ws) ws.onopen = ws.onmessage = ws.onclose = null;
    if (this.closed) return;
    if (this.onRefusalClose(code, reason)) return;
    if (PERMANENT_CLOSE.has(code)) {
      this.stop(code, reason);
      return;
    }
    if (this.openedAt && Date.now() - this.openedAt >= this.opts.stableAfterMs) this.attempt = 0;
    this.openedAt = 0;
    if (this.opts.maxAttempts > 0 && this.attempt >= this.opts.maxAttempts) {
      this.stop(code, "gave up after " + this.attempt + " attempts");
      return;
    }
    const delay = backoffDelay(this.attempt, this.opts);
    this.attempt++;
    const refusal = isRefusalClose(code) ? this.refusal : null;
    this.setState("waiting", { code, reason, delayMs: Math.round(delay), refusal });
    this.timer = setTimeout(() => this.connect(), delay);
  }

  stop(code, reason) {
    this.closed = true;
    clearTimeout(this.timer);
    clearTimeout(this.idleTimer);
    if (typeof window !== "undefined") window.removeEventListener("online", this.onOnline);
    this.setState("closed", { code, reason });
  }

  onFrame(data) {
    let msg;
    try {
      msg = JSON.parse(data);
    } catch {
      return;
    }
    if (!msg || typeof msg !== "object" || Array.isArray(msg)) return;
    if (msg.type === "ping" || msg.type === "pong") return; // heartbeat
    const meta = msg.metadata && typeof msg.metadata === "object" ? msg.metadata : {};
    const sm = meta.stream && typeof meta.stream.id === "string" && meta.stream.id ? meta.stream : null;
    const id = typeof msg.id === "string" ? msg.id : "";
    if (msg.type === "system" && meta.code === "WELCOME") {
      this.beforeWelcome(meta);
      this.onWelcome(meta);
      return;
    }
    if (meta.conversation && typeof meta.conversation === "object" && this.onConversationFrame(msg, meta)) return;
    if (msg.type === "error" && this.onRefusalEnvelope(msg, meta)) return;
    if (msg.type === "error" && this.onMessageFailed(msg, meta)) return;

    if (msg.type === "typing" && sm && sm.state === "delta") {
      this.onDelta(msg, sm);
      return;
    }
    if (id && this.seen.has(id)) return; // a duplicate
    if (msg.type === "error") {
      this.emit("error", { code: meta.code || "", message: msg.content, envelope: msg });
      return;
    }
    if (msg.type === "typing") {
      this.emit("message", msg);
      return;
    }
    if (msg.type === "system" && meta.code === "HISTORY_RESET") {
      // Everything seen belongs to a history that is gone: forget it (what follows may
      // repeat ids) and resume in the new epoch.
      this.seen.clear();
      this.seenOrder = [];
      this.streams.clear();
      this.lastMessageId = "";
      this.epoch = typeof meta.epoch === "string" ? meta.epoch : "";
      this.remember(id);
      this.emit("reset", msg);
      return;
    }
    if (msg.type === "system" && meta.code === "REPLAY_GAP") {
      this.remember(id);
      this.emit("gap", msg);
      return;
    }
    this.remember(id);
    if (id) this.lastMessageId = id;
    this.confirm(id);
    if (msg.type === "message" && sm && FINAL_STATES.has(sm.state)) {
      this.onEnd(msg, sm, meta.code || "");
      return;
    }
    this.emit("message", msg);
  }

  onDelta(msg, sm) {
    if (this.seen.has(sm.id)) return; // the stream has ended
    const seq = Number(sm.seq) || 0;
    let s = this.streams.get(sm.id);
    if (!s) {
      s = { id: sm.id, role: msg.role || "assistant", text: "", seq: 0, started: Number(msg.timestamp) || 0, parts: null, replyTo: "" };
      this.streams.set(sm.id, s);
    } else if (seq < s.seq || (seq === s.seq && !sm.resume)) {
      return; // already applied
    }
    const content = typeof msg.content === "string" ? msg.content : "";
    let delta = "";
    let replaced = false;
    if (sm.resume) {
      if (seq === s.seq && content === s.text) return;
      s.text = content;
      replaced = true;
    } else {
      s.text += content;
      delta = content;
    }
    s.seq = seq;
    if (typeof sm.replyTo === "string" && sm.replyTo) s.replyTo = sm.replyTo;
    applyStreamParts(s, msg, sm);
    this.emit("stream", { id: s.id, role: s.role, text: s.text, delta, replaced, seq, state: "delta", ...streamExtras(s) });
  }

  onEnd(msg, sm, code) {
    this.remember(sm.id);
    const s = this.streams.get(sm.id);
    this.streams.delete(sm.id);
    const text = typeof msg.content === "string" ? msg.content : "";
    let delta = "";
    let replaced = true;
    if (s && text.startsWith(s.text)) {
      delta = text.slice(s.text.length);
      replaced = false;
    }
    const end = s || { id: sm.id, text: "", parts: null, replyTo: typeof sm.replyTo === "string" ? sm.replyTo : "" };
    end.text = text;
    applyFinalParts(end, msg, sm);
    this.emit("streamend", {
      id: sm.id, role: (s && s.role) || msg.role || "assistant", text, delta, replaced,
      seq: Number(sm.seq) || 0, state: sm.state, code: sm.state === "error" ? code : "", message: msg,
      ...streamExtras(end, sm.state),
    });
  }

  remember(id) {
    if (!id || this.seen.has(id)) return;
    this.seen.add(id);
    this.seenOrder.push(id);
    if (this.seenOrder.length > this.opts.maxSeenIds) this.seen.delete(this.seenOrder.shift());
  }

  // connected reports whether a connection is open (send and cancelStream need one).
  get connected() {
    return !!this.ws && this.ws.readyState === WebSocket.OPEN;
  }

  // send sends a user message and returns its envelope (the server's echo has the same id).
  // While disconnected the message waits in the outbox and goes out on the next connection;
  // in session mode it stays there until the server's echo confirms it was stored, and is
  // sent again (same id: stored and handled once) after a reconnect. A message larger than
  // the server's maxMessageSize (from the welcome frame) is not sent: a "failed" event
  // reports it. Options: type (default "message"), metadata, id, queue (default true; false
  // returns null instead of queueing while disconnected). After close() or a refusal it
  // returns null.
  send(content, options = {}) {
    if (this.closed) return null;
    if (options.queue === false && !this.connected) return null;
    const msg = {
      id: options.id || randomId(),
      type: options.type || "message",
      role: "user",
      content: String(content),
      timestamp: Date.now(),
    };
    if (options.metadata) msg.metadata = options.metadata;
    this.outbox.set(msg.id, msg);
    this.emitOutbox();
    if (this.switching) this.held.add(msg.id); // sent to the conversation being opened, after its welcome
    else if (this.connected && this.welcome) this.transmit(msg);
    return msg;
  }

  // transmit writes one outbox message on the open connection, or reports it failed when it
  // is larger than the server accepts.
  transmit(msg) {
    const frame = JSON.stringify(msg);
    const max = this.welcome && this.welcome.maxMessageSize;
    if (max > 0 && new TextEncoder().encode(frame).length > max) {
      this.outbox.delete(msg.id);
      // Reported after send() has returned, so its caller has shown the message first.
      queueMicrotask(() => this.fail(msg.id, "MESSAGE_TOO_LARGE", "Message exceeds maximum size of " + max + " bytes", null));
      return;
    }
    this.ws.send(frame);
    if (this.welcome && !this.welcome.stored) this.confirm(msg.id); // nothing is echoed without a store
  }

  // dismiss forgets an outbox message: it will not be sent (again).
  dismiss(id) {
    if (this.outbox.delete(id)) this.emitOutbox();
  }

  confirm(id) {
    if (id && this.outbox.delete(id)) this.emitOutbox();
  }

  fail(id, code, message, envelope) {
    this.outbox.delete(id);
    this.emitOutbox();
    this.emit("failed", { id, code, message, envelope });
  }

  emitOutbox() {
    this.emit("outbox", { size: this.outbox.size });
  }

  // onWelcome handles the first frame of a connection: it names the session (adopted when
  // none was given), then the outbox is sent.
  onWelcome(meta) {
    if (typeof meta.sessionId === "string" && meta.sessionId) {
      // Another session than the one asked for (the server switched this connection): its
      // history starts over, so the old resume point means nothing there.
      if (this.sessionId && meta.sessionId !== this.sessionId) this.lastMessageId = "";
      this.sessionId = meta.sessionId;
    }
    this.connectionId = typeof meta.connectionId === "string" ? meta.connectionId : "";
    // The history's epoch, sent back with lastMessageId (a HISTORY_RESET may follow).
    if (typeof meta.epoch === "string" && meta.epoch) this.epoch = meta.epoch;
    this.welcome = {
      sessionId: this.sessionId,
      connectionId: this.connectionId,
      stored: meta.stored === true,
      maxMessageSize: Number(meta.maxMessageSize) || 0,
      replayed: Number(meta.replayed) || 0,
      streams: Array.isArray(meta.streams) ? meta.streams.filter((s) => typeof s === "string") : [],
    };
    this.refusal = null;
    this.emit("welcome", { ...this.welcome });
    this.setState("connected");
    for (const msg of [...this.outbox.values()]) {
      if (!this.connected) break;
      this.transmit(msg);
    }
  }

  // onMessageFailed reports an error envelope that names one of our messages
  // (metadata.messageId) as that message's failure.
  onMessageFailed(msg, meta) {
    const id = typeof meta.messageId === "string" ? meta.messageId : "";
    if (!id || !this.outbox.has(id)) return false;
    this.fail(id, meta.code || "", typeof msg.content === "string" ? msg.content : "", msg);
    return true;
  }

  // onRefusalEnvelope keeps the error envelope that precedes a refusal close (metadata
  // {code, status, close}); the close frame then decides.
  onRefusalEnvelope(msg, meta) {
    if (!isRefusalClose(meta.close) || meta.close !== 4000 + meta.status) return false;
    this.refusal = refusalOf(meta.close, meta.code, msg.content);
    return true;
  }

  // onRefusalClose handles a connection closed with a refusal code (4400-4599). A refusal
  // that will not change by itself stops the client in state "refused"; it reports whether
  // it did.
  onRefusalClose(code, reason) {
    if (!isRefusalClose(code)) return false;
    const text = this.refusal && this.refusal.closeCode === code ? this.refusal.message : "";
    this.refusal = refusalOf(code, reason || (this.refusal && this.refusal.code) || "", text);
    if (!this.refusal.permanent) return false;
    this.closed = true;
    clearTimeout(this.timer);
    clearTimeout(this.idleTimer);
    this.setState("refused", { code, reason: this.refusal.code, refusal: this.refusal });
    return true;
  }

  // retry starts connecting again after a refusal (say, once the user signed in) or close().
  retry() {
    if (!this.closed) return;
    this.closed = false;
    this.attempt = 0;
    clearTimeout(this.timer);
    if (typeof window !== "undefined") window.addEventListener("online", this.onOnline);
    this.connect();
  }

  // cancelStream asks the server to stop a streamed reply; it ends with state "cancelled".
  // It returns false when not connected.
  cancelStream(streamId) {
    if (!this.connected || !streamId) return false;
    this.ws.send(JSON.stringify({ type: "system", content: "cancel", metadata: { stream: { id: streamId, action: "cancel" } } }));
    return true;
  }

  // answer answers a request a reply waits on (PROTOCOL.md, "Human in the loop"): an approval
  // {id, approved, reason?} or a question {id, action: "accept"|"decline"|"cancel", content?}.
  // The server replies to this connection only: a "message" event whose metadata.code is
  // ANSWER_ACCEPTED, or an "error" event (REQUEST_NOT_FOUND, ALREADY_ANSWERED,
  // REQUEST_EXPIRED, INVALID_ANSWER, ...), both with metadata.answer = id; the winning answer
  // then shows in the reply's parts on every tab. It returns false when not connected.
  answer(answer) {
    if (!this.connected || !answer || !answer.id) return false;
    this.ws.send(JSON.stringify({ type: "system", content: "answer", metadata: { answer } }));
    return true;
  }

  // close stops the client for good: the connection closes with 1000 and no reconnect follows.
  close() {
    if (this.closed) return;
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      ws.onopen = ws.onmessage = ws.onclose = null;
      ws.close(1000);
    }
    this.stop(1000, "closed");
  }

  // ---- Conversations (PROTOCOL.md "Conversations"; the server needs Options.Conversations) ----
  //
  //   chat.addEventListener("conversations", (e) => sidebar(e.detail.list));
  //   const conv = await chat.newConversation("Trip");   // created and shown on this connection
  //   await chat.openConversation(id);                   // switch without reconnecting
  //   await chat.renameConversation(id, "Lisbon"); await chat.clearConversation(id);
  //   await chat.deleteConversation(id);                 // a running reply is cancelled
  //
  // One connection shows one conversation. When it switches, a new welcome frame names the
  // new session: what follows is its history, then live traffic; the client forgets the old
  // session's resume point, streams and seen ids, and messages still unconfirmed in the old
  // conversation leave the outbox (the server stores them there, in order). Messages sent
  // while a switch is under way wait and go to the new conversation.

  initConversations() {
    this.conversations = new Map(); // id -> entry, as the server last described it
    this.calls = new Map();         // call id -> {resolve, reject, timer}
    this.switching = false;
    this.held = new Set();          // outbox ids sent while switching
    this.callTimeoutMs = 15000;
  }

  // conversationList returns the known conversations, newest activity first.
  conversationList() {
    return [...this.conversations.values()].sort((a, b) => (b.lastActive - a.lastActive) || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
  }

  // beforeWelcome notices a welcome that names another session on an open connection: a
  // conversation switch.
  beforeWelcome(meta) {
    if (this.welcome && this.ws && typeof meta.sessionId === "string" && meta.sessionId !== this.sessionId) {
      this.lastMessageId = "";
      this.epoch = "";
      this.seen = new Set();
      this.seenOrder = [];
      this.streams = new Map();
      for (const id of [...this.outbox.keys()]) if (!this.held.has(id)) this.outbox.delete(id);
      this.emitOutbox();
    }
    this.switching = false;
    this.held.clear();
  }

  // onConversationFrame handles directory frames and refusals of conversation calls; it
  // reports whether msg was one.
  onConversationFrame(msg, meta) {
    const c = meta.conversation;
    const ref = typeof c.ref === "string" ? c.ref : "";
    if (msg.type === "error") {
      const call = ref && this.calls.get(ref);
      if (!call) return false;
      this.settle(ref);
      if (c.action === "open" || c.action === "create") this.endSwitch();
      const err = new Error(msg.content);
      err.code = meta.code || "";
      call.reject(err);
      this.emit("error", { code: meta.code || "", message: msg.content, envelope: msg });
      return true;
    }
    if (msg.type !== "system" || typeof c.event !== "string") return false;
    const entry = typeof c.id === "string" ? { id: c.id, title: c.title || "", created: c.created || 0, lastActive: c.lastActive || 0, messages: c.messages || 0, running: !!c.running } : null;
    const detail = { event: c.event, entry, list: null, next: c.next || "", action: c.action || "", ref };
    if (c.event === "list") {
      detail.list = Array.isArray(c.list) ? c.list : [];
      if (!ref) this.conversations.clear(); // the first page on connect (or after a resync) replaces what we knew
      for (const e of detail.list) this.conversations.set(e.id, e);
    } else if (c.event === "deleted") {
      if (entry) this.conversations.delete(entry.id);
    } else if (entry && (c.event !== "done" || c.action !== "delete")) {
      this.conversations.set(entry.id, entry);
    }
    const call = ref && this.calls.get(ref);
    if (call) {
      this.settle(ref);
      call.resolve(c.event === "list" ? { conversations: detail.list, next: detail.next } : entry);
    }
    this.emit("conversation", detail);
    this.emit("conversations", { list: this.conversationList() });
    return true;
  }

  settle(ref) {
    const call = this.calls.get(ref);
    if (call) clearTimeout(call.timer);
    this.calls.delete(ref);
  }

  // endSwitch sends the messages held during a switch that did not happen.
  endSwitch() {
    this.switching = false;
    const held = [...this.held];
    this.held.clear();
    for (const id of held) {
      const m = this.outbox.get(id);
      if (m && this.connected && this.welcome) this.transmit(m);
    }
  }

  // call sends a conversation call and resolves with its answer; it rejects with an Error
  // whose .code is the server's (SESSION_NOT_FOUND for an unknown or foreign id, INVALID_TITLE,
  // CONVERSATION_LIMIT, CONVERSATIONS_UNAVAILABLE, RATE_LIMITED...), or "NOT_CONNECTED" /
  // "TIMEOUT".
  call(action, fields = {}) {
    return new Promise((resolve, reject) => {
      if (!this.connected || !this.welcome) {
        const err = new Error("not connected");
        err.code = "NOT_CONNECTED";
        reject(err);
        return;
      }
      const id = randomId();
      const timer = setTimeout(() => {
        this.calls.delete(id);
        if (action === "open" || action === "create") this.endSwitch();
        const err = new Error("no answer");
        err.code = "TIMEOUT";
        reject(err);
      }, this.callTimeoutMs);
      this.calls.set(id, { resolve, reject, timer });
      if (action === "open" || action === "create") this.switching = true;
      this.ws.send(JSON.stringify({ id, type: "system", content: action, metadata: { conversation: { action, ...fields } } }));
    });
  }

  listConversations(cursor = "") { return this.call("list", cursor ? { cursor } : {}); }
  newConversation(title = "") { return this.call("create", { title }); }
  openConversation(id, lastMessageId = "") { return this.call("open", lastMessageId ? { id, lastMessageId } : { id }); }
  renameConversation(id, title) { return this.call("rename", { id, title }); }
  clearConversation(id) { return this.call("clear", { id }); }
  deleteConversation(id) { return this.call("delete", { id }); }
}

// ---------------------------------------------------------------------------------------
// AI replies as parts, and the AI SDK's ChatTransport over chatwire's WebSocket.
//
//   import { useChat } from "@ai-sdk/react";
//   import { ChatwireTransport } from "/chatwire.js";
//   const { messages, sendMessage, stop } = useChat({ id: chatId, transport: new ChatwireTransport(), resume: true });
//
// A streamed reply's parts (PROTOCOL.md, "Parts") are assembled into the AI SDK's UIMessage
// parts: {type: "text" | "reasoning", text, state}, tool parts {type: "tool-<name>" or
// "dynamic-tool", toolCallId, state, input, output, errorText, ...}, "source-url",
// "source-document", "file", "data-<name>" and "step-start". ChatClient's stream and
// streamend events carry them as detail.parts.

// isToolPart reports whether a UIMessage part is a tool call.
export function isToolPart(part) {
  return !!part && typeof part.type === "string" && (part.type === "dynamic-tool" || part.type.startsWith("tool-"));
}

// toolNameOf returns the tool's name of a tool part.
export function toolNameOf(part) {
  return part.type === "dynamic-tool" ? part.toolName : part.type.slice("tool-".length);
}

const jsonText = (v) => {
  try {
    return JSON.stringify(v) ?? "";
  } catch {
    return "";
  }
};

// ChunkWriter turns the successive states of one reply's parts into the AI SDK's
// UIMessageChunk stream: each call of update returns the chunks that bring a reader from
// what it was sent so far to the given parts. A reader that starts late (a resume) gets the
// whole reply so far in the fewest chunks, then the rest as it grows. Chunks carry only the
// fields that ai 5.0 and later accept.
export class ChunkWriter {
  constructor(messageId) {
    this.messageId = messageId;
    this.started = false;
    this.ended = false;
    this.inStep = false;
    this.sent = []; // per part index: what the reader has of it
    this.metadata = undefined; // the message metadata sent, as JSON
  }

  // update returns the chunks for parts (an array of UIMessage parts; tool parts may carry
  // inputText, the raw streamed input so far) and messageMetadata (the message's metadata).
  update(parts, messageMetadata) {
    const out = [];
    if (this.ended) return out;
    if (!this.started) {
      this.started = true;
      out.push({ type: "start", messageId: this.messageId });
    }
    if (messageMetadata !== undefined) {
      const sig = jsonText(messageMetadata);
      if (sig !== this.metadata) {
        this.metadata = sig;
        out.push({ type: "message-metadata", messageMetadata });
      }
    }
    parts.forEach((part, i) => this.part(out, part, i));
    return out;
  }

  // end returns the closing chunks after the final parts: state is "done", "cancelled" or
  // "error" (with errorText).
  end(parts, state, errorText, messageMetadata) {
    const out = this.update(parts, messageMetadata);
    if (this.ended) return out;
    for (let i = 0; i < parts.length; i++) this.close(out, parts[i], i);
    if (this.inStep) out.push({ type: "finish-step" });
    this.inStep = false;
    if (state === "error") out.push({ type: "error", errorText: errorText || "The reply failed." });
    if (state === "cancelled") out.push({ type: "abort" });
    const finish = { type: "finish" };
    if (state === "cancelled" || state === "error") finish.messageMetadata = { chatwire: { state } };
    out.push(finish);
    this.ended = true;
    return out;
  }

  part(out, p, i) {
    let s = this.sent[i];
    switch (p.type) {
      case "text":
      case "reasoning": {
        if (!s) {
          // The part's id on the wire when it has one (ai 6 copies a reasoning chunk's id
          // onto the part), else its position.
          s = this.sent[i] = { id: typeof p.id === "string" && p.id ? p.id : String(i), text: "", ended: false };
          out.push({ type: p.type + "-start", id: s.id });
        }
        const text = typeof p.text === "string" ? p.text : "";
        if (text.length > s.text.length && text.startsWith(s.text)) {
          out.push({ type: p.type + "-delta", id: s.id, delta: text.slice(s.text.length) });
          s.text = text;
        }
        if (p.state === "done") this.close(out, p, i);
        return;
      }
      case "step-start":
        if (!s) {
          this.sent[i] = {};
          if (this.inStep) out.push({ type: "finish-step" });
          out.push({ type: "start-step" });
          this.inStep = true;
        }
        return;
      case "source-url":
        if (!s) {
          this.sent[i] = {};
          const c = { type: "source-url", sourceId: p.sourceId, url: p.url };
          if (typeof p.title === "string") c.title = p.title;
          out.push(c);
        }
        return;
      case "source-document":
        if (!s) {
          this.sent[i] = {};
          const c = { type: "source-document", sourceId: p.sourceId, mediaType: p.mediaType, title: p.title };
          if (typeof p.filename === "string") c.filename = p.filename;
          out.push(c);
        }
        return;
      case "file":
        if (!s) {
          this.sent[i] = {};
          out.push({ type: "file", url: p.url, mediaType: p.mediaType });
        }
        return;
      default:
        if (isToolPart(p)) {
          this.tool(out, p, i);
        } else if (typeof p.type === "string" && p.type.startsWith("data-")) {
          // A data part with an id is replaced in place when it changes; one without is sent once.
          const sig = jsonText(p.data);
          if (!s || (p.id != null && s.sig !== sig)) {
            this.sent[i] = { sig };
            const c = { type: p.type, data: p.data };
            if (p.id != null) c.id = p.id;
            out.push(c);
          }
        }
    }
  }

  tool(out, p, i) {
    let s = this.sent[i];
    const flags = {};
    if (p.type === "dynamic-tool") flags.dynamic = true;
    if (p.providerExecuted) flags.providerExecuted = true;
    const toolName = toolNameOf(p);
    if (!s) {
      s = this.sent[i] = { input: "", available: false, output: false };
      out.push({ type: "tool-input-start", toolCallId: p.toolCallId, toolName, ...flags });
    }
    const raw = typeof p.inputText === "string" ? p.inputText : "";
    if (!s.available && raw.length > s.input.length && raw.startsWith(s.input)) {
      out.push({ type: "tool-input-delta", toolCallId: p.toolCallId, inputTextDelta: raw.slice(s.input.length) });
      s.input = raw;
    }
    if (p.state === "input-streaming") return;
    if (!s.available) {
      s.available = true;
      out.push({ type: "tool-input-available", toolCallId: p.toolCallId, toolName, input: p.input, ...flags });
    }
    if (p.state === "approval-requested" && p.approval && !s.approval) {
      s.approval = true; // ai 6 and later (approvals need them)
      out.push({ type: "tool-approval-request", approvalId: p.approval.id, toolCallId: p.toolCallId });
    }
    if (s.output) return;
    if (p.state === "output-available") {
      s.output = true;
      out.push({ type: "tool-output-available", toolCallId: p.toolCallId, output: p.output, ...flags });
    } else if (p.state === "output-error") {
      s.output = true;
      out.push({ type: "tool-output-error", toolCallId: p.toolCallId, errorText: String(p.errorText ?? ""), ...flags });
    } else if (p.state === "output-denied") {
      s.output = true;
      out.push({ type: "tool-output-denied", toolCallId: p.toolCallId }); // ai 6 and later (approvals)
    }
  }

  // close ends a text or reasoning part the reader still has open.
  close(out, p, i) {
    const s = this.sent[i];
    if ((p.type === "text" || p.type === "reasoning") && s && !s.ended) {
      s.ended = true;
      out.push({ type: p.type + "-end", id: s.id });
    }
  }
}

// textOfUIMessage returns a UIMessage's text parts joined: what chatwire stores as content.
function textOfUIMessage(m) {
  if (!m || !Array.isArray(m.parts)) return typeof m?.content === "string" ? m.content : "";
  return m.parts.filter((p) => p && p.type === "text").map((p) => p.text).join("");
}

function abortError() {
  if (typeof DOMException === "function") return new DOMException("The operation was aborted.", "AbortError");
  const e = new Error("The operation was aborted.");
  e.name = "AbortError";
  return e;
}

// defaultChatURL is the WebSocket endpoint /chat on the page's own host.
function defaultChatURL() {
  if (typeof location === "undefined") throw new Error("ChatwireTransport: no url given and no page to take the host from");
  return new URL("/chat", location.href).toString();
}

// ChatwireTransport implements the AI SDK's ChatTransport (useChat's transport option) over
// chatwire's WebSocket: one connection per chat (the chat id is chatwire's session id),
// kept open and resumed by a ChatClient, shared by every request of that chat.
//
//   - sendMessages sends the newest user message and streams the reply's parts as
//     UIMessageChunks; aborting (useChat's stop()) cancels the reply on the server, wherever
//     it runs. Regenerating is not supported (chatwire keeps the conversation, and a reply
//     once stored stays).
//   - reconnectToStream returns the running reply of the chat, from its beginning (its parts
//     so far, compacted) then live, on whichever instance it runs; null when none runs.
//   - subscribe tells a page about messages and replies that other tabs started, so it can
//     show them (call useChat's resumeStream() from onStream).
//
// It works wherever a global WebSocket exists (browsers; Node with the ws package assigned to
// globalThis.WebSocket). Options: url (default /chat on the page's host) and client, options
// for each ChatClient (e.g. minBackoffMs).
export class ChatwireTransport {
  constructor(options = {}) {
    this.url = options.url ? String(options.url) : defaultChatURL();
    this.clientOptions = { ...(options.client || {}) };
    this.clients = new Map(); // chat id -> {chat, claimed:Set<stream id>, watchers:Set}
    // A resumed reply starts from its beginning: the AI SDK (6 and later) then starts the
    // message over instead of appending to what it had.
    this.resumeStreamIsReplay = true;
  }

  // session returns the shared connection of chatId, connecting it on first use; a
  // connection that was refused (say, before the user signed in) tries again.
  session(chatId) {
    if (!chatId) throw new Error("ChatwireTransport: a chat id is required");
    let s = this.clients.get(chatId);
    if (s && s.chat.state === "refused") s.chat.retry();
    if (!s) {
      const chat = new ChatClient(this.url, { ...this.clientOptions, sessionId: chatId });
      chat.catchUp = new CatchUp(chat); // before the first frame: the client connects in a microtask
      s = { chat, claimed: new Set(), watchers: new Set(), announced: new Set() };
      this.clients.set(chatId, s);
      chat.addEventListener("message", (e) => this.onSessionMessage(s, e.detail));
      chat.addEventListener("stream", (e) => this.onSessionStream(s, e.detail));
    }
    return s;
  }

  onSessionMessage(s, msg) {
    if (s.watchers.size === 0 || msg.type !== "message") return;
    const ui = toUIMessage(msg);
    if (!ui) return;
    // After the other listeners of this frame: a reply read by a request of this tab (a
    // reply that is not streamed is claimed by its id) is that request's.
    queueMicrotask(() => {
      if (s.claimed.has(msg.id) || s.claimed.has(streamIdOf(msg))) return;
      for (const w of s.watchers) w.onMessage?.(ui);
    });
  }

  onSessionStream(s, d) {
    if (s.watchers.size === 0 || s.announced.has(d.id)) return;
    // After the other listeners of this frame: a reader of this tab claims its reply first.
    queueMicrotask(() => {
      if (s.claimed.has(d.id) || s.announced.has(d.id) || !s.chat.streams.has(d.id)) return;
      s.announced.add(d.id);
      for (const w of s.watchers) w.onStream?.(d.id);
    });
  }

  // subscribe calls handlers.onMessage(uiMessage) for every stored message of chatId that
  // this tab did not read as a reply (other tabs' user messages, for instance), and
  // handlers.onStream(streamId) once for each reply that starts streaming without a reader
  // here. It returns the function that ends the subscription.
  subscribe(chatId, handlers) {
    const s = this.session(chatId);
    const w = { onMessage: handlers.onMessage, onStream: handlers.onStream };
    s.watchers.add(w);
    for (const id of s.chat.streams.keys()) this.onSessionStream(s, { id });
    return () => s.watchers.delete(w);
  }

  async sendMessages({ chatId, messages, abortSignal, trigger }) {
    if (trigger === "regenerate-message") {
      throw new Error("ChatwireTransport: regenerating a reply is not supported; send a new message");
    }
    const last = messages && messages[messages.length - 1];
    const answers = last && last.role === "assistant" ? approvalAnswersOf(last) : [];
    if (answers.length) return this.answerApprovals(chatId, last, answers, abortSignal);
    if (!last || last.role !== "user") throw new Error("ChatwireTransport: the last message must be the user's");
    const s = this.session(chatId);
    await connected(s.chat, abortSignal);
    const sent = s.chat.send(textOfUIMessage(last), { id: last.id });
    if (!sent) throw new Error("ChatwireTransport: not connected");
    return this.replyStream(s, { userId: last.id, abortSignal });
  }

  // answerApprovals sends the answers of an assistant message whose tool parts useChat moved to
  // approval-responded (addToolApprovalResponse; ai 6 and later), then streams the rest of that
  // same message: only what the client does not have yet.
  async answerApprovals(chatId, message, answers, abortSignal) {
    const s = this.session(chatId);
    await connected(s.chat, abortSignal);
    for (const a of answers) {
      if (!s.chat.answer(a)) throw new Error("ChatwireTransport: not connected");
    }
    return this.replyStream(s, { streamId: message.id, abortSignal, has: message.parts, answered: new Set(answers.map((a) => a.id)) });
  }

  async reconnectToStream({ chatId, abortSignal }) {
    const s = this.session(chatId);
    await caughtUp(s.chat, abortSignal);
    let newest = null;
    for (const st of s.chat.streams.values()) {
      // A reply waiting for an approval is not streaming: the client goes on with its answer.
      if (waitsForApproval(streamExtras(st).parts, null)) continue;
      if (!s.claimed.has(st.id) && (!newest || st.started >= newest.started)) newest = st;
    }
    if (!newest) return null;
    return this.replyStream(s, { streamId: newest.id, abortSignal });
  }

  // replyStream is the ReadableStream of one reply's chunks: the reply to the user message
  // userId (the first reply that starts after its echo), or the running stream streamId.
  replyStream(s, { userId, streamId, abortSignal, has, answered }) {
    const chat = s.chat;
    let echoed = !userId;
    let id = streamId || "";
    let writer = null;
    let done = false;
    let controller;
    const off = [];
    const on = (type, fn) => {
      chat.addEventListener(type, fn);
      off.push(() => chat.removeEventListener(type, fn));
    };
    const finish = () => {
      done = true;
      for (const f of off) f();
      off.length = 0;
    };
    const claim = (sid) => {
      id = sid;
      s.claimed.add(sid);
      writer = new ChunkWriter(sid);
      if (has) {
        // The client holds the message up to its approval requests: the writer starts from
        // there (the tool parts as they were asked), and only the start chunk goes out.
        const asked = has.map((p) => (p.state === "approval-responded" && p.approval ? { ...p, state: "approval-requested", approval: { id: p.approval.id } } : p));
        push(writer.update(asked).filter((c) => c.type === "start"));
      }
    };
    // pushParts sends what parts add; a reply that now waits for an approval nobody gave ends
    // its stream there (ai 6 shows the request; the answer comes back through sendMessages).
    const pushParts = (parts, messageMetadata) => {
      push(writer.update(parts, messageMetadata));
      if (waitsForApproval(parts, answered)) {
        push(writer.end(parts, "done", "", messageMetadata));
        finish();
        s.claimed.delete(id);
        controller.close();
      }
    };
    const push = (chunks) => {
      for (const c of chunks) controller.enqueue(c);
    };
    const onAbort = () => {
      if (done) return;
      if (id) cancelWhenConnected(chat, id);
      else if (userId) cancelReplyTo(s, userId);
      finish();
      controller.error(abortError());
    };
    return new ReadableStream({
      start: (c) => {
        controller = c;
        if (abortSignal?.aborted) {
          onAbort();
          return;
        }
        abortSignal?.addEventListener("abort", onAbort, { once: true });
        off.push(() => abortSignal?.removeEventListener("abort", onAbort));
        on("message", (e) => {
          const msg = e.detail;
          if (!echoed && msg.id === userId) {
            echoed = true;
            return;
          }
          // A reply that is not streamed: one stored assistant message.
          if (echoed && !id && msg.type === "message" && msg.role === "assistant" && !streamIdOf(msg)) {
            claim(msg.id);
            const ui = toUIMessage(msg);
            push(writer.end(ui ? ui.parts : [], "done"));
            finish();
            controller.close();
          }
        });
        on("stream", (e) => {
          const d = e.detail;
          if (!id) {
            // The reply to our message: the server names it (replyTo); a server that does not
            // gets the first reply that starts after our message's echo.
            if (s.claimed.has(d.id) || (d.replyTo ? d.replyTo !== userId : !echoed)) return;
            claim(d.id);
          }
          if (d.id !== id) return;
          pushParts(d.parts, d.messageMetadata);
        });
        on("streamend", (e) => {
          const d = e.detail;
          if (d.id !== id || !writer) return;
          push(writer.end(d.parts, d.state, d.state === "error" ? errorTextOf(d) : "", d.messageMetadata));
          finish();
          controller.close();
        });
        on("error", (e) => {
          // An error envelope about our message (metadata.messageId names it; servers that do
          // not name it: any error before the echo): the message was refused.
          const about = e.detail.envelope?.metadata?.messageId;
          if (id || echoed || (about && about !== userId)) return;
          finish();
          controller.error(new Error(e.detail.message || "The message was refused"));
        });
        on("state", (e) => {
          if (e.detail.state !== "closed" && e.detail.state !== "refused") return;
          finish();
          controller.error(connectionError(e.detail));
        });
        if (streamId) {
          claim(streamId);
          const st = chat.streams.get(streamId);
          if (st) pushParts(streamExtras(st).parts, st.messageMetadata);
        }
      },
      cancel: () => { // the reader went away: the reply goes on (stop() is the abort signal)
        finish();
        if (id) s.claimed.delete(id); // reconnectToStream may pick it up again
      },
    });
  }

  // close ends every connection of this transport.
  close() {
    for (const s of this.clients.values()) s.chat.close();
    this.clients.clear();
  }
}

// approvalAnswersOf returns the answers in an assistant UIMessage's tool parts that useChat's
// addToolApprovalResponse moved to approval-responded: only ids and answers are sent, never
// the tool's input (the server holds what it asked about).
function approvalAnswersOf(message) {
  const out = [];
  for (const p of message.parts || []) {
    if (!isToolPart(p) || p.state !== "approval-responded" || !p.approval || !p.approval.id) continue;
    const a = { id: p.approval.id, approved: p.approval.approved === true };
    if (typeof p.approval.reason === "string" && p.approval.reason) a.reason = p.approval.reason;
    out.push(a);
  }
  return out;
}

// waitsForApproval reports whether parts hold a tool call waiting for an approval that is not
// among answered (a Set of approval ids, or null).
function waitsForApproval(parts, answered) {
  return (parts || []).some((p) => isToolPart(p) && p.state === "approval-requested" && p.approval && !(answered && answered.has(p.approval.id)));
}

// connectionError is the error of a request whose connection stopped for good: closed, or
// refused (unauthenticated, forbidden, session not found: e.code is the refusal's code).
function connectionError(d) {
  const e = new Error(d.state === "refused"
    ? "chatwire refused the connection: " + ((d.refusal && (d.refusal.message || d.refusal.code)) || d.reason || d.code)
    : "chatwire connection closed: " + (d.reason || d.code || ""));
  if (d.refusal && d.refusal.code) e.code = d.refusal.code;
  return e;
}

function errorTextOf(d) {
  return d.code ? "The reply failed (" + d.code + ")" : "The reply failed";
}

// connected resolves once chat is connected; it rejects when signal aborts or the client
// gives up.
function connected(chat, signal) {
  if (chat.connected) return Promise.resolve();
  if (chat.closed) return Promise.reject(connectionError({ state: chat.state, refusal: chat.refusal, reason: "closed" }));
  return new Promise((resolve, reject) => {
    const done = (fn, v) => {
      chat.removeEventListener("state", onState);
      signal?.removeEventListener("abort", onAbort);
      fn(v);
    };
    const onState = (e) => {
      if (e.detail.state === "connected") done(resolve);
      else if (e.detail.state === "closed" || e.detail.state === "refused") done(reject, connectionError(e.detail));
    };
    const onAbort = () => done(reject, abortError());
    chat.addEventListener("state", onState);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

// cancelWhenConnected asks the server to cancel stream id, now or as soon as a connection is up.
function cancelWhenConnected(chat, id) {
  if (chat.cancelStream(id)) return;
  const onState = (e) => {
    if (e.detail.state === "closed") chat.removeEventListener("state", onState);
    if (e.detail.state === "connected") {
      chat.removeEventListener("state", onState);
      chat.cancelStream(id);
    }
  };
  chat.addEventListener("state", onState);
}

// cancelReplyTo cancels the reply to user message userId as soon as it starts.
function cancelReplyTo(s, userId) {
  const chat = s.chat;
  let echoed = false;
  const stop = () => {
    chat.removeEventListener("message", onMessage);
    chat.removeEventListener("stream", onStream);
  };
  const onMessage = (e) => {
    if (e.detail.id === userId) echoed = true;
  };
  const onStream = (e) => {
    const d = e.detail;
    if (s.claimed.has(d.id) || (d.replyTo ? d.replyTo !== userId : !echoed)) return;
    stop();
    s.claimed.add(d.id);
    cancelWhenConnected(chat, d.id);
  };
  chat.addEventListener("message", onMessage);
  chat.addEventListener("stream", onStream);
  setTimeout(stop, 60000); // no reply within a minute: nothing left to cancel
}

// ---- catching up after a connect -------------------------------------------------------
// A connection first receives the welcome frame, then the replayed history and one compacted
// frame per running stream, then live frames. CatchUp tells when the replay and the compacted
// frames are in: the welcome lists the streams that will be resumed ("streams") and the number
// of replayed records ("replayed"). A server that does not send them is given quietMs of
// silence instead.
const QUIET_MS = 400;
const SAFETY_MS = 5000;

class CatchUp {
  constructor(chat, quietMs = QUIET_MS) {
    this.chat = chat;
    this.quietMs = quietMs;
    this.done = false;
    this.waiters = new Set();
    this.timer = null;
    this.reset();
    chat.addEventListener("state", (e) => {
      if (e.detail.state === "connecting") this.reset();
      if (e.detail.state === "connected") this.quiet();
      if (e.detail.state === "closed" || e.detail.state === "refused") this.finish();
    });
    for (const type of ["welcome", "message", "stream", "streamend", "gap", "error"]) {
      chat.addEventListener(type, (e) => this.saw(type, e.detail));
    }
  }

  reset() {
    this.done = false;
    this.welcomed = false;
    this.streams = null; // ids still to be resumed, when the welcome said
    this.records = -1; // replayed records still to come, when the welcome said
    clearTimeout(this.timer);
  }

  saw(type, d) {
    if (this.done) return;
    // The welcome frame (PROTOCOL.md, "The welcome frame"): ChatClient's welcome event.
    const w = type === "welcome" ? d : null;
    if (w) {
      if (this.welcomed) return; // the same welcome as two events
      this.welcomed = true;
      if (Array.isArray(w.streams)) this.streams = new Set(w.streams.filter((s) => typeof s === "string"));
      if (Number.isInteger(w.replayed)) this.records = w.replayed;
    } else if (type === "message" || type === "gap") {
      if (this.records > 0) this.records--;
      if (type === "message" && this.streams) this.streams.delete(streamIdOf(d));
    } else if (type === "stream" || type === "streamend") {
      if (type === "streamend" && this.records > 0) this.records--; // a stored reply, replayed
      if (this.streams) this.streams.delete(d.id);
    }
    if (this.exact() && this.streams.size === 0 && (!this.chat.opts.history || this.records === 0)) {
      // Without history=all the running streams are all there is to wait for (their resume
      // frames follow any replay); with it, the replayed records too.
      this.finish();
    }
  }

  // exact reports whether the welcome said what follows it.
  exact() {
    return this.welcomed && this.streams !== null && (!this.chat.opts.history || this.records !== -1);
  }

  // quiet starts the fallback timer when the connection opens: a server whose welcome does
  // not say what follows has sent its catch-up (queued before the upgrade's response) within
  // quietMs. Live frames do not restart it.
  quiet() {
    clearTimeout(this.timer);
    if (this.done || this.chat.state !== "connected") return;
    // When the welcome said what follows, the timer is only a safety net (a frame the
    // client dropped as a duplicate is never counted).
    this.timer = setTimeout(() => {
      if (!this.exact()) this.finish();
      else this.timer = setTimeout(() => this.finish(), SAFETY_MS);
    }, this.quietMs);
  }

  finish() {
    clearTimeout(this.timer);
    this.done = true;
    for (const w of this.waiters) w();
    this.waiters.clear();
  }

  wait(signal) {
    if (this.done && this.chat.state === "connected") return Promise.resolve();
    if (this.chat.closed) return Promise.reject(connectionError({ state: this.chat.state, refusal: this.chat.refusal, reason: "closed" }));
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.waiters.delete(w);
        reject(abortError());
      };
      const w = () => {
        signal?.removeEventListener("abort", onAbort);
        if (this.chat.closed) reject(connectionError({ state: this.chat.state, refusal: this.chat.refusal, reason: "closed" }));
        else resolve();
      };
      this.waiters.add(w);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }
}

// caughtUp resolves once chat has received what its connection's catch-up holds.
function caughtUp(chat, signal) {
  chat.catchUp ??= new CatchUp(chat);
  return chat.catchUp.wait(signal);
}

// ---- stored messages as UIMessages -----------------------------------------------------

// toUIMessage returns a stored chat envelope as an AI SDK UIMessage ({id, role, parts,
// metadata}), or null for envelopes that are not chat messages. A streamed reply's parts come
// from its metadata (PROTOCOL.md, "Parts"); other messages have one text part. A reply that
// ended cancelled or failed has metadata.chatwire.state ("cancelled" or "error").
export function toUIMessage(msg) {
  if (!msg || msg.type !== "message" || typeof msg.id !== "string") return null;
  const role = msg.role === "user" || msg.role === "system" ? msg.role : "assistant";
  const meta = msg.metadata && typeof msg.metadata === "object" ? msg.metadata : {};
  let parts = storedParts(msg);
  if (!parts) parts = msg.content ? [{ type: "text", text: msg.content, ...(role === "assistant" ? { state: "done" } : {}) }] : [];
  const ui = { id: msg.id, role, parts };
  const md = meta.messageMetadata && typeof meta.messageMetadata === "object" ? meta.messageMetadata : undefined;
  const state = meta.stream && meta.stream.state;
  if (state === "cancelled" || state === "error") {
    ui.metadata = { ...(md || {}), chatwire: { state, ...(meta.code ? { code: meta.code } : {}) } };
  } else if (md) {
    ui.metadata = md;
  }
  return ui;
}

// loadUIMessages reads the stored conversation of chatId (every retained message, as
// UIMessages) from the chatwire WebSocket at url and closes the connection. A useChat page
// passes the result as its initial messages. Options: signal (an AbortSignal), client (more
// ChatClient options).
export async function loadUIMessages({ url, chatId, signal, client } = {}) {
  const chat = new ChatClient(url ? String(url) : defaultChatURL(), { ...(client || {}), sessionId: chatId, history: true, maxAttempts: 3 });
  const out = [];
  const index = new Map();
  chat.addEventListener("message", (e) => {
    const ui = toUIMessage(e.detail);
    if (!ui) return;
    if (index.has(ui.id)) out[index.get(ui.id)] = ui;
    else {
      index.set(ui.id, out.length);
      out.push(ui);
    }
  });
  chat.addEventListener("streamend", (e) => {
    const ui = toUIMessage(e.detail.message);
    if (ui && !index.has(ui.id)) {
      index.set(ui.id, out.length);
      out.push(ui);
    }
  });
  chat.catchUp = new CatchUp(chat);
  try {
    await caughtUp(chat, signal);
    // A reply that waits for a person's approval is not streaming (reconnectToStream skips
    // it) and not stored yet: it is part of the conversation as it stands, so the page can
    // show the request and answer it (ai 6: addToolApprovalResponse) after a reload.
    for (const st of chat.streams.values()) {
      const { parts, messageMetadata } = streamExtras(st);
      if (index.has(st.id) || !waitsForApproval(parts, null)) continue;
      index.set(st.id, out.length);
      out.push({ id: st.id, role: "assistant", parts, ...(messageMetadata !== undefined ? { metadata: messageMetadata } : {}) });
    }
  } finally {
    chat.close();
  }
  return out;
}

// ---- assembling parts from chatwire's frames ---------------------------------------------

// streamExtras is what stream and streamend events add for parts: parts (UIMessage parts; a
// stream without parts on the wire has one text part) and replyTo (the id of the user
// message the reply answers, when the server says).
function streamExtras(s, endState) {
  let parts;
  if (s.parts) parts = s.parts.map((p) => ({ ...p }));
  else parts = s.text ? [{ type: "text", text: s.text, state: endState ? "done" : "streaming" }] : [];
  return { parts, messageMetadata: s.messageMetadata, replyTo: s.replyTo || "", started: s.started || 0 };
}

// applyStreamParts folds a delta frame's chunks (metadata.stream.chunks: the AI SDK's
// UIMessageChunks) into s.parts; a resume frame's chunks rebuild the parts from nothing.
function applyStreamParts(s, msg, sm) {
  const chunks = Array.isArray(sm.chunks) ? sm.chunks : null;
  if (sm.resume) {
    if (!chunks && s.parts === null) return; // a server without parts: text only
    s.parts = [];
    s.partIndex = new Map();
    s.messageMetadata = undefined;
  }
  if (!chunks) return;
  if (s.parts === null) {
    s.parts = [];
    s.partIndex = new Map();
  }
  for (const c of chunks) if (c && typeof c.type === "string") applyChunk(s, c);
}

// applyChunk folds one chunk into s.parts as the AI SDK's client does (PROTOCOL.md, "Parts").
// Chunks that refer to a part that does not exist are ignored.
function applyChunk(s, c) {
  const parts = s.parts;
  const index = s.partIndex;
  const find = (key) => (index.has(key) ? parts[index.get(key)] : null);
  const push = (key, part) => {
    if (key) index.set(key, parts.length);
    parts.push(part);
    return part;
  };
  const flags = (p) => {
    if (c.providerExecuted) p.providerExecuted = true;
    return p;
  };
  switch (c.type) {
    case "text-start":
    case "reasoning-start": {
      const type = c.type.slice(0, -"-start".length);
      push(type[0] + ":" + c.id, { type, id: String(c.id), text: "", state: "streaming" });
      return;
    }
    case "text-delta":
    case "reasoning-delta": {
      const p = find(c.type[0] + ":" + c.id);
      if (p) p.text += typeof c.delta === "string" ? c.delta : "";
      return;
    }
    case "text-end":
    case "reasoning-end": {
      const p = find(c.type[0] + ":" + c.id);
      if (p) p.state = "done";
      return;
    }
    case "tool-input-start": {
      const p = find("c:" + c.toolCallId);
      if (p) {
        p.state = "input-streaming";
        return;
      }
      push("c:" + c.toolCallId, flags(toolPartOf(c, "input-streaming")));
      return;
    }
    case "tool-input-delta": {
      const p = find("c:" + c.toolCallId);
      if (p && p.state === "input-streaming") p.inputText = (p.inputText || "") + (c.inputTextDelta || "");
      return;
    }
    case "tool-input-available": {
      let p = find("c:" + c.toolCallId);
      if (!p) p = push("c:" + c.toolCallId, toolPartOf(c, "input-available"));
      p.state = "input-available";
      p.input = c.input;
      delete p.inputText;
      flags(p);
      return;
    }
    case "tool-output-available": {
      const p = find("c:" + c.toolCallId);
      if (p) {
        p.state = "output-available";
        p.output = c.output;
      }
      return;
    }
    case "tool-output-error": {
      const p = find("c:" + c.toolCallId);
      if (p) {
        p.state = "output-error";
        p.errorText = c.errorText;
      }
      return;
    }
    case "tool-output-denied": {
      const p = find("c:" + c.toolCallId);
      if (p) p.state = "output-denied";
      return;
    }
    case "tool-approval-request": { // human in the loop: the call waits for a person's answer
      const p = find("c:" + c.toolCallId);
      if (p) {
        p.state = "approval-requested";
        p.approval = { id: c.approvalId };
      }
      return;
    }
    case "tool-approval-response": { // chatwire's own chunk: the answer, from any tab or instance
      const p = find("c:" + c.toolCallId);
      if (p) {
        p.state = "approval-responded";
        p.approval = { id: c.approvalId, approved: c.approved === true };
        if (typeof c.reason === "string" && c.reason) p.approval.reason = c.reason;
        if (typeof c.answeredBy === "string" && c.answeredBy) p.approval.answeredBy = c.answeredBy;
        if (typeof c.answeredAt === "number") p.approval.answeredAt = c.answeredAt;
      }
      return;
    }
    case "source-url": {
      const p = { type: "source-url", sourceId: c.sourceId, url: c.url };
      if (typeof c.title === "string") p.title = c.title;
      push("", p);
      return;
    }
    case "source-document": {
      const p = { type: "source-document", sourceId: c.sourceId, mediaType: c.mediaType, title: c.title };
      if (typeof c.filename === "string") p.filename = c.filename;
      push("", p);
      return;
    }
    case "file":
      push("", { type: "file", mediaType: c.mediaType, url: c.url });
      return;
    case "start-step":
      push("", { type: "step-start" });
      return;
    case "message-metadata":
      s.messageMetadata = mergeMetadata(s.messageMetadata, c.messageMetadata);
      return;
    default:
      if (!c.type.startsWith("data-") || c.transient) return;
      if (c.id != null) {
        const p = find("d:" + c.type + ":" + c.id);
        if (p) {
          p.data = c.data;
          return;
        }
        push("d:" + c.type + ":" + c.id, { type: c.type, id: c.id, data: c.data });
        return;
      }
      push("", { type: c.type, data: c.data });
  }
}

function toolPartOf(c, state) {
  const p = c.dynamic
    ? { type: "dynamic-tool", toolName: c.toolName, toolCallId: c.toolCallId, state }
    : { type: "tool-" + c.toolName, toolCallId: c.toolCallId, state };
  return p;
}

// mergeMetadata merges message metadata as the AI SDK does: nested objects merge, anything
// else replaces.
function mergeMetadata(base, over) {
  const isObj = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
  if (!isObj(base) || !isObj(over)) return over;
  const out = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = isObj(v) && isObj(out[k]) ? mergeMetadata(out[k], v) : v;
  return out;
}

// applyFinalParts takes the stored parts of a stream's final message.
function applyFinalParts(s, msg) {
  const parts = storedParts(msg);
  if (parts) s.parts = parts;
  const md = msg && msg.metadata && msg.metadata.messageMetadata;
  if (md && typeof md === "object") s.messageMetadata = md;
}

// storedParts returns the parts a stored message keeps in metadata.parts (UIMessage parts), or
// null when it has none.
function storedParts(msg) {
  const parts = msg && msg.metadata && msg.metadata.parts;
  if (!Array.isArray(parts)) return null;
  return parts.filter((p) => p && typeof p === "object" && typeof p.type === "string").map((p) => ({ ...p }));
}
