// Command chatcli chats with a chatwire server from a terminal, on the Go client
// (github.com/chatwire/chatwire/client): it reconnects and resumes by itself, and shows
// streamed replies as they grow.
//
//	go run ./examples/nethttp -stream            # a server with a streaming fake model
//	go run ./examples/chatcli -url ws://localhost:8080/chat [-session id]
//
// Type a line to send it; it is printed as "you: …" once the server has stored it. /stop
// stops the reply that is streaming, /quit (or Ctrl-D) quits once the replies under way have
// arrived, Ctrl-C quits at once. A streamed reply is printed as it grows, on one line; the
// tool calls it makes are printed on their own lines right after that line, so the text is
// never cut. Give -session the id
// printed at start to continue the same session from another terminal or the browser page
// (open http://localhost:8080/?sessionId=<id>).
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/chatwire/chatwire/client"
	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/parts"
)

func main() {
	url := flag.String("url", "ws://127.0.0.1:8080/chat", "chat endpoint (ws:// or wss://)")
	session := flag.String("session", "", "session to join (default: a new one the server makes, printed at start)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Stdin, os.Stdout, *url, *session); err != nil {
		fmt.Fprintln(os.Stderr, "chatcli:", err)
		os.Exit(1)
	}
}

// quietPeriod is how long chatcli waits, after the input ended, for a reply to start once
// everything it sent has been stored and no reply is streaming.
const quietPeriod = 500 * time.Millisecond

// sendTimeout bounds a send while the client is reconnecting.
const sendTimeout = 30 * time.Second

// run chats on the session at url, reading lines from in and writing the conversation to
// out, until ctx ends (it returns nil at once), the input ends or says /quit (it returns
// nil once what was sent is stored, no reply streams and nothing arrived for a moment), or
// the client stops for good (it returns why).
//
// run does not wait for the goroutine that reads in: a read from a terminal cannot be
// interrupted. That goroutine stops at its next line or at the end of in, without blocking
// (main exits then; tests close in).
func run(ctx context.Context, in io.Reader, out io.Writer, url, session string) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	c, err := client.Dial(ctx, url, client.Options{SessionID: session})
	if err != nil {
		return err
	}
	defer c.Close()
	fmt.Fprintf(out, "[connected to session %s; /stop stops a streaming reply, Ctrl-D quits]\n", c.SessionID())

	lines := make(chan string)
	go func() { // ends at the end of in, or at its next line once run has returned
		defer close(lines)
		sc := bufio.NewScanner(in)
		sc.Buffer(make([]byte, 4096), 1<<20)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
	}()

	v := &view{out: out, sent: map[string]bool{}, printed: map[string]string{}, tools: map[string]string{}}
	var quiet <-chan time.Time
	var quietTimer *time.Timer
	rearm := func() {
		if quietTimer == nil {
			quietTimer = time.NewTimer(quietPeriod)
			quiet = quietTimer.C
			return
		}
		quietTimer.Reset(quietPeriod)
	}
	defer func() {
		if quietTimer != nil {
			quietTimer.Stop()
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return nil
		case line, ok := <-lines:
			if !ok || strings.TrimSpace(line) == "/quit" {
				lines = nil // the input has ended: wait for what is under way
				rearm()
				continue
			}
			if err := v.input(ctx, c, line); err != nil {
				return err
			}
		case ev, ok := <-c.Events():
			if !ok {
				if errors.Is(c.Err(), context.Canceled) {
					return nil
				}
				return c.Err()
			}
			v.show(ev)
			if lines == nil {
				rearm()
			}
		case <-quiet:
			if v.idle() {
				return nil
			}
			rearm()
		}
	}
}

// view prints the conversation. Streamed text is written as it arrives, on one line that
// stays open until something else must be printed.
type view struct {
	out     io.Writer
	sent    map[string]bool   // ids sent and not yet echoed (stored) by the server
	printed map[string]string // running stream id -> text already printed
	running []string          // running streams, oldest first
	open    string            // the stream whose line is open ("" when at a line start)
	held    []string          // tool call lines of the open stream, printed when its line ends
	tools   map[string]string // "<stream id> <tool call id>" -> what was printed: "call" or "result"
}

// input handles one line typed by the user.
func (v *view) input(ctx context.Context, c *client.Client, line string) error {
	text := strings.TrimSpace(line)
	switch {
	case text == "":
		return nil
	case text == "/stop":
		if len(v.running) == 0 {
			v.line("[no reply is streaming]")
			return nil
		}
		for _, id := range v.running {
			if err := c.CancelStream(ctx, id); err != nil {
				v.line("[could not stop the reply: " + err.Error() + "]")
			}
		}
		return nil
	}
	sctx, cancel := context.WithTimeout(ctx, sendTimeout)
	defer cancel()
	m, err := c.SendText(sctx, text)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		v.line("[not sent: " + err.Error() + "]")
		return nil
	}
	v.sent[m.ID] = true
	return nil
}

// idle reports whether nothing the user is waiting for is under way.
func (v *view) idle() bool { return len(v.sent) == 0 && len(v.running) == 0 }

func (v *view) show(ev client.Event) {
	switch ev.Kind {
	case client.EventState:
		switch ev.State {
		case client.StateWaiting:
			v.line(fmt.Sprintf("[connection lost (%s); reconnecting in %v]", lostReason(ev), ev.Delay.Round(time.Millisecond)))
		case client.StateConnected:
			if ev.Attempt > 0 {
				v.line("[reconnected]")
			}
		case client.StateClosed:
			if ev.Err != nil && !errors.Is(ev.Err, client.ErrClosed) && !errors.Is(ev.Err, context.Canceled) {
				v.line("[disconnected: " + ev.Err.Error() + "]")
			}
		}
	case client.EventMessage:
		m := ev.Message
		if v.sent[m.ID] {
			delete(v.sent, m.ID)
			v.line("you: " + m.Content) // our own message, now stored
			return
		}
		switch m.Type {
		case core.TypeTyping:
		case core.TypeToolCall:
			v.toolLine(ev.StreamID, "  [tool call] "+m.Content)
		case core.TypeToolResult:
			v.toolLine(ev.StreamID, "  [tool result] "+m.Content)
		case core.TypeSystem:
			v.line("[system] " + m.Content)
		default:
			v.line(string(m.Role) + ": " + m.Content)
		}
	case client.EventStream:
		v.stream(ev.Stream)
	case client.EventStreamEnd:
		v.stream(ev.Stream)
		v.endLine()
		footer := "— " + string(ev.Stream.State)
		if ev.Stream.Code != "" {
			footer += " (" + ev.Stream.Code + ")"
		}
		v.line(footer)
		delete(v.printed, ev.Stream.ID)
		for key := range v.tools {
			if strings.HasPrefix(key, ev.Stream.ID+" ") {
				delete(v.tools, key)
			}
		}
		for i, id := range v.running {
			if id == ev.Stream.ID {
				v.running = append(v.running[:i], v.running[i+1:]...)
				break
			}
		}
	case client.EventError:
		var se *client.ServerError
		if errors.As(ev.Err, &se) {
			v.line("[error " + se.Code + "] " + se.Message)
		}
	case client.EventReplayGap:
		v.line("[some earlier messages are no longer available]")
	}
}

// stream prints what a stream event adds to the text already on the screen.
func (v *view) stream(s client.Stream) {
	prev, known := v.printed[s.ID]
	if !known && s.Running() {
		v.running = append(v.running, s.ID)
	}
	if known && strings.HasPrefix(s.Text, prev) {
		if s.Text == prev {
			return
		}
		if v.open != s.ID {
			v.endLine() // another stream or a tool call interrupted this one: go on below
		}
		fmt.Fprint(v.out, s.Text[len(prev):])
	} else {
		// A new stream, or one whose text changed in a way that cannot be appended (a
		// resume frame after a reconnect, say): print it whole.
		v.endLine()
		label := string(s.Role) + ": "
		if known {
			label = string(s.Role) + " (resumed): "
		}
		fmt.Fprint(v.out, label+s.Text)
	}
	v.printed[s.ID] = s.Text
	v.open = s.ID
	v.toolParts(s)
}

// toolParts prints the stream's tool calls (parts of the reply): the call once its input is
// complete, the result once it arrived, each once, held until the stream's line ends.
func (v *view) toolParts(s client.Stream) {
	for _, p := range s.Parts {
		if !p.IsTool() || p.State == parts.ToolInputStreaming {
			continue
		}
		key := s.ID + " " + p.ToolCallID
		if v.tools[key] == "" {
			v.toolLine(s.ID, "  [tool call] "+p.ToolName+" "+string(p.Input))
			v.tools[key] = "call"
		}
		if v.tools[key] == "result" {
			continue
		}
		switch p.State {
		case parts.ToolOutputAvailable:
			v.toolLine(s.ID, "  [tool result] "+string(p.Output))
		case parts.ToolOutputError:
			v.toolLine(s.ID, "  [tool result] error: "+p.ErrorText)
		case parts.ToolOutputDenied:
			v.toolLine(s.ID, "  [tool result] denied")
		default:
			continue
		}
		v.tools[key] = "result"
	}
}

// line prints a whole line, first ending an open stream line.
func (v *view) line(s string) {
	v.endLine()
	fmt.Fprintln(v.out, s)
}

// toolLine prints a tool call or result on its own line. One made by the stream whose line
// is open waits until that line ends, so the streamed text is not cut in two.
func (v *view) toolLine(streamID, s string) {
	if streamID != "" && streamID == v.open {
		v.held = append(v.held, s)
		return
	}
	v.line(s)
}

// endLine ends an open stream line, then prints the tool lines held for it.
func (v *view) endLine() {
	if v.open != "" {
		fmt.Fprintln(v.out)
		v.open = ""
	}
	for _, s := range v.held {
		fmt.Fprintln(v.out, s)
	}
	v.held = v.held[:0]
}

func lostReason(ev client.Event) string {
	if ev.CloseCode != 0 {
		return fmt.Sprintf("code %d", ev.CloseCode)
	}
	if ev.Err != nil {
		return ev.Err.Error()
	}
	return "unknown"
}
