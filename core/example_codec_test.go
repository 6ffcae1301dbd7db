package core_test

import (
	"errors"
	"fmt"

	"github.com/chatwire/chatwire/core"
)

func ExampleAppendMessage() {
	m := core.Message{
		ID:        "m1",
		Type:      core.TypeMessage,
		Role:      core.RoleAssistant,
		Content:   "Hello, <b>world</b>!\n",
		Timestamp: 1700000000123,
	}
	buf := make([]byte, 0, 512) // reuse one buffer per connection: no allocation per message
	buf = core.AppendMessage(buf[:0], &m)
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
		var m core.Message
		err := core.Decode([]byte(f), &m)
		var e *core.Error
		switch {
		case err == nil:
			fmt.Printf("%s from %s: %q %s\n", m.Type, m.Role, m.Content, m.Metadata)
		case errors.Is(err, core.ErrHeartbeat):
			fmt.Println("heartbeat:", m.Type)
		case errors.As(err, &e):
			fmt.Println(e.Code+":", e.Message)
		}
	}
	// Output:
	// message from user: "hi" {"lang":"en"}
	// heartbeat: ping
	// INVALID_MESSAGE: Invalid message type: chat. Expected one of: message, typing, error, tool_call, tool_result, system
	// INVALID_MESSAGE: Failed to parse message as JSON
}
