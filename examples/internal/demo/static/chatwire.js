// chatwire.js: a dependency-free browser client for chatwire servers (ES module).
//
//   import { ChatClient } from "/chatwire.js";
//   const chat = new ChatClient("/chat", { sessionId: "demo" });
//   chat.addEventListener("message", (e) => render(e.detail));
//   chat.send("hello");
//
// It reconnects with exponential backoff and full jitter, resumes with ?lastMessageId=,
// ignores heartbeats and drops duplicates by id.

const DEFAULTS = {
  sessionId: "",           // "" = let the server pick one (reported in the "open" event)
  minBackoffMs: 250,       // first retry waits up to this long
  maxBackoffMs: 30000,     // retries never wait longer than this
  maxSeenIds: 5000,        // ids remembered for de-duplication
};

export class ChatClient extends EventTarget {
  constructor(path, options = {}) {
    super();
    this.opts = { ...DEFAULTS, ...options };
    this.path = path;
    this.sessionId = this.opts.sessionId;
    this.lastMessageId = options.lastMessageId || "";
    this.state = "idle";
    this.attempt = 0;
    this.seen = new Set();
    this.seenOrder = [];
    this.closed = false;
    this.ws = null;
    this.timer = null;
    this.connect();
  }

  url() {
    const u = new URL(this.path, window.location.href);
    u.protocol = u.protocol === "https:" ? "wss:" : "ws:";
    if (this.sessionId) u.searchParams.set("sessionId", this.sessionId);
    if (this.lastMessageId) u.searchParams.set("lastMessageId", this.lastMessageId);
    return u.toString();
  }

  setState(state, detail = {}) {
    this.state = state;
    this.dispatchEvent(new CustomEvent("state", { detail: { state, ...detail } }));
  }

  connect() {
    if (this.closed) return;
    this.setState(this.attempt === 0 ? "connecting" : "reconnecting", { attempt: this.attempt });
    const ws = new WebSocket(this.url());
    this.ws = ws;
    ws.onopen = () => {
      this.attempt = 0;
      this.setState("open");
    };
    ws.onmessage = (ev) => this.onFrame(ev.data);
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (this.closed) {
        this.setState("closed", { code: ev.code });
        return;
      }
      this.scheduleReconnect(ev.code);
    };
  }

  scheduleReconnect(code) {
    const cap = Math.min(this.opts.maxBackoffMs, this.opts.minBackoffMs * 2 ** this.attempt);
    const delay = Math.random() * cap; // full jitter
    this.attempt++;
    this.setState("waiting", { code, delayMs: Math.round(delay), attempt: this.attempt });
    this.timer = setTimeout(() => this.connect(), delay);
  }

  onFrame(data) {
    let msg;
    try {
      msg = JSON.parse(data);
    } catch {
      return;
    }
    if (!msg || typeof msg !== "object") return;
    if (msg.type === "ping" || msg.type === "pong") return; // heartbeat
    if (typeof msg.id === "string" && msg.id) {
      if (this.seen.has(msg.id)) return;
      this.remember(msg.id);
      if (msg.type !== "typing" && msg.type !== "error" && !isGapNotice(msg)) {
        this.lastMessageId = msg.id;
      }
    }
    this.dispatchEvent(new CustomEvent("message", { detail: msg }));
  }

  remember(id) {
    this.seen.add(id);
    this.seenOrder.push(id);
    if (this.seenOrder.length > this.opts.maxSeenIds) this.seen.delete(this.seenOrder.shift());
  }

  // send sends a user message; it returns the envelope, or null when not connected.
  send(content, type = "message", metadata) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return null;
    const msg = { id: crypto.randomUUID(), type, role: "user", content, timestamp: Date.now() };
    if (metadata) msg.metadata = metadata;
    this.ws.send(JSON.stringify(msg));
    return msg;
  }

  close() {
    this.closed = true;
    clearTimeout(this.timer);
    if (this.ws) this.ws.close(1000);
  }
}

function isGapNotice(msg) {
  return msg.type === "system" && msg.metadata && msg.metadata.code === "REPLAY_GAP";
}
