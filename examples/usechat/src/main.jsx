// The useChat page: stock useChat from @ai-sdk/react, with a switch between the AI SDK's own
// DefaultChatTransport (SSE, POST /api/chat, resume GET /api/chat/{id}/stream) and chatwire's
// ChatwireTransport (the WebSocket at /chat). The chat id is chatwire's session id; it lives
// in the URL (?chatId=), so a reload or a second tab opens the same chat.
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { DefaultChatTransport } from "ai";
import { ChatwireTransport, loadUIMessages } from "/chatwire.js";
import { App } from "./App.jsx";

const params = new URLSearchParams(location.search);
let chatId = params.get("chatId");
if (!chatId) {
  chatId = crypto.randomUUID();
  params.set("chatId", chatId);
  history.replaceState(null, "", "?" + params.toString());
}
const mode = params.get("transport") === "sse" ? "sse" : "ws";

// Where the example serves each endpoint (same origin as this page).
const api = "/api/chat";
const wsURL = "/chat";

function makeTransport() {
  if (mode === "sse") {
    return new DefaultChatTransport({ api });
  }
  return new ChatwireTransport({ url: wsURL });
}

async function main() {
  const root = createRoot(document.getElementById("root"));
  let initial = [];
  let loadError = "";
  try {
    // The conversation so far (stored messages, with their parts). chatwire keeps it, not the
    // client; both transports read it through the WebSocket's history replay.
    initial = await loadUIMessages({ url: wsURL, chatId });
  } catch (err) {
    loadError = String(err && err.message ? err.message : err);
  }
  root.render(
    <StrictMode>
      <App chatId={chatId} mode={mode} transport={makeTransport()} initialMessages={initial} api={api} loadError={loadError} />
    </StrictMode>,
  );
}

main();
