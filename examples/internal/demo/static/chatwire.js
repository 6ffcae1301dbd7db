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
//     message replaces it again and ends the stream;
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
//   stream     {id, role, text, delta, replaced, seq, state: "delta"}: a streamed reply grew
//              (the first event, seq 1, has empty text)
//   streamend  {id, role, text, delta, replaced, seq, state, code, message}: state is "done",
//              "cancelled" or "error" (code says why, e.g. STREAM_LOST)
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
      s = { id: sm.id, role: msg.role || "assistant", text: "", seq: 0 };
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
    this.emit("stream", { id: s.id, role: s.role, text: s.text, delta, replaced, seq, state: "delta" });
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
    this.emit("streamend", {
      id: sm.id, role: (s && s.role) || msg.role || "assistant", text, delta, replaced,
      seq: Number(sm.seq) || 0, state: sm.state, code: sm.state === "error" ? code : "", message: msg,
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
