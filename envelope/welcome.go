package envelope

import "encoding/json"

// CodeWelcome is carried by the system envelope the server sends first on every connection
// (see PROTOCOL.md, "The welcome frame"): {"code":"WELCOME","sessionId":"…","connectionId":"…"}.
const CodeWelcome = "WELCOME"

// WelcomeContent is the content of the welcome envelope.
const WelcomeContent = "connected"

// Welcome is the metadata of the welcome envelope: what a client needs to resume.
type Welcome struct {
	// Code is CodeWelcome.
	Code string `json:"code"`
	// SessionID is the connection's session: the one the client named, or the fresh one the
	// server made. Reconnect with ?sessionId= set to it to resume.
	SessionID string `json:"sessionId"`
	// ConnectionID identifies this connection in the server's logs and hooks (core.ConnEvent.ConnID).
	ConnectionID string `json:"connectionId"`
	// Stored reports session mode (a Store is configured): every inbound message is stored
	// and echoed to its sender, which confirms it, so resending an unconfirmed message with
	// the same id after a reconnect is safe (it is stored and handled once). Without a store
	// nothing is echoed and a resent message is handled again.
	Stored bool `json:"stored"`
	// MaxMessageSize is the largest frame the server accepts (core.Options.MaxMessageSize): a
	// client can refuse a larger message itself instead of sending it.
	MaxMessageSize int `json:"maxMessageSize"`
	// Replayed is the number of stored messages replayed right after the welcome (the
	// catch-up asked for with lastMessageId or history=all), before live traffic.
	Replayed int `json:"replayed"`
	// Streams lists the streams running when the connection joined (empty, never absent): one
	// compacted resume frame per stream follows the replay. A client that finds none here
	// knows at once that nothing is running.
	Streams []string `json:"streams"`
	// Epoch is the epoch of the session's history (absent while the session has
	// none): send it back as ?epoch= with lastMessageId, so that a server whose history was
	// lost meanwhile answers HISTORY_RESET instead of a replay.
	Epoch string `json:"epoch,omitempty"`
}

// WelcomeOf returns the welcome carried by m and true when m is a welcome envelope (a
// system envelope whose metadata code is WELCOME and whose sessionId is a string).
func WelcomeOf(m *Message) (Welcome, bool) {
	if m.Type != TypeSystem || len(m.Metadata) == 0 {
		return Welcome{}, false
	}
	var w Welcome
	if err := json.Unmarshal(m.Metadata, &w); err != nil || w.Code != CodeWelcome || w.SessionID == "" {
		return Welcome{}, false
	}
	return w, true
}
