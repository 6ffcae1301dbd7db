// Package client is a Go client for chatwire servers (and any server speaking the wire
// format in PROTOCOL.md). It keeps one WebSocket connection to a session up for as long as
// the caller wants it, and turns the frames it receives into events.
//
//	c, err := client.Dial(ctx, "ws://localhost:8080/chat", client.Options{SessionID: "demo"})
//	if err != nil { ... }
//	defer c.Close()
//	c.SendText(ctx, "hello")
//	for ev := range c.Events() {
//		switch ev.Kind {
//		case client.EventMessage:   // ev.Message: a stored message, tool call, system note...
//		case client.EventStream:    // ev.Stream.Text grows (ev.Stream.Delta is what was added)
//		case client.EventStreamEnd: // ev.Stream.State is done, cancelled or error
//		case client.EventError:     // ev.Err is a *client.ServerError
//		case client.EventState:     // ev.State: connecting, connected, waiting, closed
//		}
//	}
//
// # What the client does for you
//
//   - Reconnects: when a connection ends for any reason but Close or the end of the Dial
//     context, the client waits and dials again, for ever by default (Options.MaxAttempts
//     bounds it). Waits grow exponentially with full jitter (Options.Backoff: a random wait
//     below min(30s, 250ms·2ⁿ) by default); the count starts over once a connection has
//     stayed up for 5 seconds. It stops instead after a handshake refusal with a 4xx
//     status other than 408 and 429 (a *HandshakeError, or a *RefusalError when the URL
//     asks for refusal frames with refusal=close), after the refusal close codes 4400-4499
//     but 4408 and 4429, and after the close codes that mean the client broke the protocol
//     (1002, 1003, 1007, 1010). Every other close code
//     reconnects: 1001 (server shutting down), 1012 (service restart), 1013 (try again
//     later), 1006 (dropped), 1008 (too slow a reader), 1011, and 1000 from proxies that
//     close idle connections.
//   - Resumes: every connection names the same session (Options.SessionID, or the one the
//     server named in the welcome frame that starts every connection) and, after the first,
//     sends lastMessageId: the id of the last stored message
//     received (never a typing, error or REPLAY_GAP envelope). The server replays what was
//     missed, then running streams in compacted form.
//   - Handles a lost history: on HISTORY_RESET (the server's store lost the session, see
//     PROTOCOL.md) it forgets the ids it saw and its last message id and emits
//     EventHistoryReset; the application clears what it shows, and the events that follow
//     are the new history. The next connection sends the new epoch (Client.Epoch) with
//     lastMessageId.
//   - Drops duplicates by envelope id (the last Options.DedupeWindow ids).
//   - Assembles streamed replies: deltas are applied in sequence order (a delta already
//     applied is dropped), a resume frame replaces the text, and the final stored message
//     replaces it once more and ends the stream. CancelStream asks the server to stop one.
//   - Handles heartbeats: text pings are ignored, ping control frames answered. A
//     connection on which nothing arrives for Options.IdleTimeout (70s) is replaced.
//
// # Concurrency
//
// A Client is safe for concurrent use. Dial starts one goroutine, which owns the connection
// and, while connected, one reader goroutine; both have returned when Close returns or Done
// is closed. Events are delivered in the order the server sent them on one channel, which
// is closed after the last one: read it until then. While it is full the client stops
// reading from the server (backpressure rather than unbounded buffering). Send,
// SendText and CancelStream may be called from any goroutine; they wait while the client
// is reconnecting, bounded by their context.
package client
