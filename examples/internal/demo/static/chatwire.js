// chatwire.js: a dependency-free browser client for chatwire servers (an ES module). It
// follows PROTOCOL.md as the Go client (github.com/chatwire/chatwire/client) does.
//
//   import { ChatClient } from "/chatwire.js";
//   const chat = new ChatClient("/chat", { sessionId: "demo" });
//   chat.addEventListener("state", (e) => badge(e.detail.state));       // connecting, connected, waiting, closed
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
//   - resumes: every connection names the same session and sends lastMessageId, the id of the
//     last stored message received (never a typing, error or REPLAY_GAP envelope);
//   - drops duplicate envelopes by id;
//   - assembles streamed replies: deltas by seq, a resume frame replaces the text, the final
//     message replaces it again and ends the stream;
//   - ignores heartbeats ({"type":"ping"}; the browser answers ping control frames) and
//     replaces a connection that receives nothing for idleTimeoutMs.
//
// Events (CustomEvent; the payload is in event.detail):
//   state      {state, attempt, delayMs, code, reason}
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

export const DEFAULTS = Object.freeze({
  sessionId: "",          // "" = a new random id, kept for reconnects (see .sessionId)
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

export class ChatClient extends EventTarget {
  constructor(url, options = {}) {
    super();
    this.opts = { ...DEFAULTS, ...options };
    this.url = url;
    this.sessionId = this.opts.sessionId || randomId();
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
    u.searchParams.set("sessionId", this.sessionId);
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
    ws.onopen = () => {
      if (this.ws !== ws) return;
      this.openedAt = Date.now();
      this.touch();
      this.setState("connected");
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
    this.setState("waiting", { code, reason, delayMs: Math.round(delay) });
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

  // send sends a user message and returns its envelope (the server's echo has the same id),
  // or null when not connected. Options: type (default "message"), metadata, id.
  send(content, options = {}) {
    if (!this.connected) return null;
    const msg = {
      id: options.id || randomId(),
      type: options.type || "message",
      role: "user",
      content: String(content),
      timestamp: Date.now(),
    };
    if (options.metadata) msg.metadata = options.metadata;
    this.ws.send(JSON.stringify(msg));
    return msg;
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
}
