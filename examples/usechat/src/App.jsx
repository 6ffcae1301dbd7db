import { useEffect, useRef, useState } from "react";
import { useChat } from "@ai-sdk/react";
import { lastAssistantMessageIsCompleteWithApprovalResponses } from "ai";
import { Part } from "./Parts.jsx";

// stopURL is where the SSE side stops a reply: useChat's stop() only aborts the fetch, which the
// server cannot tell from a lost connection, so the page also asks the server to cancel.
function stopURL(api, chatId) {
  return `${api}/${encodeURIComponent(chatId)}/stop`;
}

function otherMode(mode) {
  const p = new URLSearchParams(location.search);
  p.set("transport", mode === "ws" ? "sse" : "ws");
  return "?" + p.toString();
}

export function App({ chatId, mode, transport, initialMessages, api, loadError }) {
  const { messages, setMessages, sendMessage, status, stop, error, resumeStream, addToolApprovalResponse } = useChat({
    id: chatId,
    transport,
    messages: initialMessages,
    resume: true, // after a reload: pick up a reply that is still running (on any instance)
    experimental_throttle: 30,
    // Tool approvals (ai 6): once every request of the reply is answered, the answers go to
    // the server, which continues the same message (on whichever instance runs it).
    sendAutomaticallyWhen: lastAssistantMessageIsCompleteWithApprovalResponses,
  });
  const onApproval = (id, approved) => addToolApprovalResponse({ id, approved });
  const [input, setInput] = useState("");
  const [stopped, setStopped] = useState(() => new Set()); // ids of replies this tab stopped
  const logRef = useRef(null);
  const busy = status === "submitted" || status === "streaming";

  // Over the WebSocket, a reply started by another tab (or another user of the chat) is
  // announced; this tab then shows it as it streams, as the demo page does.
  const statusRef = useRef(status);
  statusRef.current = status;
  useEffect(() => {
    if (typeof transport.subscribe !== "function") return undefined;
    return transport.subscribe(chatId, {
      onMessage(msg) {
        setMessages((ms) => (ms.some((m) => m.id === msg.id) ? ms : [...ms, msg]));
      },
      onStream() {
        if (statusRef.current === "ready" || statusRef.current === "error") resumeStream();
      },
    });
  }, [transport, chatId, setMessages, resumeStream]);

  useEffect(() => {
    const el = logRef.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [messages]);

  const lastAssistant = [...messages].reverse().find((m) => m.role === "assistant");

  function onStop() {
    if (lastAssistant) setStopped((s) => new Set(s).add(lastAssistant.id));
    stop();
    if (mode === "sse") {
      fetch(stopURL(api, chatId), { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" }).catch(() => {});
    }
  }

  function onSubmit(e) {
    e.preventDefault();
    const text = input.trim();
    if (!text || busy) return;
    sendMessage({ text });
    setInput("");
  }

  return (
    <div className="page">
      <header>
        <strong>chatwire · useChat</strong>
        <span className="chat-id" title={chatId}>chat {chatId}</span>
        <span className="transport" data-mode={mode}>
          {mode === "ws" ? "WebSocket (ChatwireTransport)" : "SSE (DefaultChatTransport)"}
        </span>
        <a id="switch" href={otherMode(mode)}>use {mode === "ws" ? "SSE" : "WebSocket"}</a>
        <a href={"/?sessionId=" + encodeURIComponent(chatId)}>demo page</a>
        <span id="status" className="status" data-status={status}>{status}</span>
      </header>
      <main id="log" ref={logRef}>
        {loadError && <div className="note error">history not loaded: {loadError}</div>}
        {messages.map((m) => (
          <Message key={m.id} message={m} stopped={stopped.has(m.id)} live={busy && m === messages[messages.length - 1] && m.role === "assistant"} onApproval={onApproval} />
        ))}
        {error && <div className="note error" id="error">{String(error.message || error)}</div>}
      </main>
      <form onSubmit={onSubmit}>
        <input id="text" value={input} onChange={(e) => setInput(e.target.value)} placeholder="Say something" autoComplete="off" autoFocus />
        <button id="send" disabled={busy}>Send</button>
        <button id="stop" type="button" onClick={onStop} hidden={!busy}>Stop</button>
      </form>
    </div>
  );
}

// replyState is how a reply ended: "cancelled" or "error" from the stored message's metadata
// (set by chatwire), "cancelled" when this tab stopped it, else "" (done or running).
function replyState(message, stopped) {
  const s = message.metadata && message.metadata.chatwire && message.metadata.chatwire.state;
  if (s === "cancelled" || s === "error") return s;
  return stopped ? "cancelled" : "";
}

function Message({ message, stopped, live, onApproval }) {
  const state = replyState(message, stopped);
  return (
    <div className={"msg " + message.role} data-id={message.id} data-role={message.role} data-live={live ? "1" : undefined} data-state={state || undefined}>
      {message.parts.map((p, i) => (
        <Part key={i} part={p} index={i} parts={message.parts} onApproval={onApproval} />
      ))}
      {state && <div className="badge">{state}</div>}
    </div>
  );
}
