package envelope_test

import (
	"errors"
	"fmt"

	"github.com/chatwire/chatwire/envelope"
)

func ExampleAppendMessage() {
	m := envelope.Message{
		ID:        "m1",
		Type:      envelope.TypeMessage,
		Role:      envelope.RoleAssistant,
		Content:   "Hello, <b>world</b>!\n",
		Timestamp: 1700000000123,
	}
	buf := make([]byte, 0, 512) // reuse one buffer per connection: no allocation per message
	buf = envelope.AppendMessage(buf[:0], &m)
	fmt.Println(string(buf))
	// Output:
	// {"id":"m1","type":"message","role":"assistant","content":"Hello, <b>world</b>!\n","timestamp":1700000000123}
}

func ExampleDecode() {
	frames := []string{
		`{"type":"message","content":"hi","role":"user","metadata":{"lang":"en"}}`,
		`{"type":"ping"}`,
		`{"type":"chat","content":"hi"}`,
		`{"type":"message"`,
	}
	for _, f := range frames {
		var m envelope.Message
		err := envelope.Decode([]byte(f), &m)
		var e *envelope.DecodeError
		switch {
		case err == nil:
			fmt.Printf("%s from %s: %q %s\n", m.Type, m.Role, m.Content, m.Metadata)
		case errors.Is(err, envelope.ErrHeartbeat):
			fmt.Println("heartbeat:", m.Type)
		case errors.As(err, &e):
			fmt.Println("invalid:", e.Text)
		}
	}
	// Output:
	// message from user: "hi" {"lang":"en"}
	// heartbeat: ping
	// invalid: Invalid message type: chat. Expected one of: message, typing, error, tool_call, tool_result, system
	// invalid: Failed to parse message as JSON
}
