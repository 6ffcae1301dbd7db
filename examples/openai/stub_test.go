package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// stubLLM is a local OpenAI-compatible chat-completions server. It streams the way the real
// API does: Server-Sent Events of chat.completion.chunk objects (a role chunk, content or
// reasoning deltas, tool_calls deltas whose first fragment carries index, id, type and name
// and later ones only index and an argument fragment, a chunk with finish_reason, a usage
// chunk with empty choices), then "data: [DONE]". What it answers depends on the request:
//
//   - the last message is a tool result: a final text that quotes the result;
//   - the user's message contains "fail": HTTP 500 with an error body (as the API does);
//   - it contains "busy": HTTP 429 (rate limited);
//   - it contains "midstream": a few text deltas, then an error event in the stream;
//   - it contains "whole": one tool call sent in a single chunk (as Ollama does);
//   - it contains "noid": one whole tool call without an id (some servers send none);
//   - it contains "parallel": a little text, then two calls (index 0 and 1) whose fragments
//     interleave, as parallel tool calls do;
//   - it contains "slow": one text delta, then nothing until the request is cancelled
//     (stubLLM.cancelled is closed then);
//   - otherwise: reasoning, then a calculate call for the expression after "compute ".
type stubLLM struct {
	*httptest.Server
	t *testing.T

	cancelled chan struct{} // closed when a "slow" request's context ends

	mu       sync.Mutex
	requests []stubRequest
}

// stubRequest is the part of a chat-completions request the tests look at.
type stubRequest struct {
	Auth          string
	Model         string `json:"model"`
	Stream        bool   `json:"stream"`
	StreamOptions struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
	Messages []struct {
		Role       string          `json:"role"`
		Content    json.RawMessage `json:"content"`
		ToolCallID string          `json:"tool_call_id"`
		ToolCalls  []struct {
			ID       string `json:"id"`
			Type     string `json:"type"`
			Function struct {
				Name      string `json:"name"`
				Arguments string `json:"arguments"`
			} `json:"function"`
		} `json:"tool_calls"`
	} `json:"messages"`
	Tools []struct {
		Type     string `json:"type"`
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
	} `json:"tools"`
}

// secretDetail is in every error the stub returns; no client may ever see it.
const secretDetail = "org-internal-7f3a quota of key sk-live-SECRET exceeded"

func newStubLLM(t *testing.T) *stubLLM {
	s := &stubLLM{t: t, cancelled: make(chan struct{})}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *stubLLM) baseURL() string { return s.URL + "/v1" }

func (s *stubLLM) calls() []stubRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]stubRequest(nil), s.requests...)
}

func (s *stubLLM) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions" {
		http.Error(w, `{"error":{"message":"not found","type":"invalid_request_error"}}`, http.StatusNotFound)
		return
	}
	body, _ := io.ReadAll(r.Body)
	var req stubRequest
	if err := json.Unmarshal(body, &req); err != nil {
		s.t.Errorf("stub: request body is not JSON: %v", err)
		http.Error(w, `{"error":{"message":"bad json"}}`, http.StatusBadRequest)
		return
	}
	req.Auth = r.Header.Get("Authorization")
	s.mu.Lock()
	s.requests = append(s.requests, req)
	s.mu.Unlock()
	if len(req.Messages) == 0 {
		http.Error(w, `{"error":{"message":"no messages"}}`, http.StatusBadRequest)
		return
	}
	last := req.Messages[len(req.Messages)-1]
	var user string
	_ = json.Unmarshal(last.Content, &user)

	if strings.Contains(user, "fail") || strings.Contains(user, "busy") {
		status := http.StatusInternalServerError
		if strings.Contains(user, "busy") {
			status = http.StatusTooManyRequests
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"error":{"message":%q,"type":"server_error","param":null,"code":"internal"}}`, secretDetail)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	c := chunker{w: w, model: req.Model}
	c.delta(`{"role":"assistant","content":""}`, "")
	switch {
	case last.Role == "tool":
		var result struct {
			Result json.Number `json:"result"`
			Error  string      `json:"error"`
		}
		_ = json.Unmarshal([]byte(user), &result) // a tool turn's content is the result's JSON text
		answer := "The answer is " + string(result.Result) + "."
		if result.Error != "" {
			answer = "The tool said: " + result.Error
		}
		for _, piece := range splitEvery(answer, 5) {
			c.delta(fmt.Sprintf(`{"content":%q}`, piece), "")
		}
		c.delta(`{}`, "stop")
	case strings.Contains(user, "midstream"):
		c.delta(`{"content":"Partial "}`, "")
		c.delta(`{"content":"answer"}`, "")
		c.raw(fmt.Sprintf(`{"error":{"message":%q,"type":"server_error"}}`, secretDetail))
		return // the API ends such a stream without [DONE]
	case strings.Contains(user, "noid"):
		c.delta(`{"tool_calls":[{"index":0,"type":"function","function":{"name":"calculate","arguments":"{\"expression\":\"3*3\"}"}}]}`, "")
		c.delta(`{}`, "tool_calls")
	case strings.Contains(user, "parallel"):
		c.delta(`{"content":"Two sums."}`, "")
		c.delta(`{"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"calculate","arguments":""}}]}`, "")
		c.delta(`{"tool_calls":[{"index":1,"id":"call_b","type":"function","function":{"name":"calculate","arguments":"{\"expression\":"}}]}`, "")
		c.delta(`{"tool_calls":[{"index":0,"function":{"arguments":"{\"expression\":\"1+1\"}"}}]}`, "")
		c.delta(`{"tool_calls":[{"index":1,"function":{"arguments":"\"2*3\"}"}}]}`, "")
		c.delta(`{}`, "tool_calls")
	case strings.Contains(user, "slow"):
		c.delta(`{"content":"Thinking about it"}`, "")
		<-r.Context().Done()
		close(s.cancelled)
		return
	case strings.Contains(user, "whole"):
		c.delta(`{"reasoning":"Adding."}`, "") // vLLM and Ollama name the field "reasoning"
		args, _ := json.Marshal(map[string]string{"expression": exprOf(user)})
		c.delta(fmt.Sprintf(`{"tool_calls":[{"index":0,"id":"call_whole","type":"function","function":{"name":"calculate","arguments":%q}}]}`, args), "")
		c.delta(`{}`, "tool_calls")
	default:
		c.delta(`{"reasoning_content":"The user wants arithmetic."}`, "")
		c.delta(`{"reasoning_content":" I will use the calculator."}`, "")
		args, _ := json.Marshal(map[string]string{"expression": exprOf(user)})
		c.delta(`{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"calculate","arguments":""}}]}`, "")
		for _, frag := range splitEvery(string(args), 7) {
			c.delta(fmt.Sprintf(`{"tool_calls":[{"index":0,"function":{"arguments":%q}}]}`, frag), "")
		}
		c.delta(`{}`, "tool_calls")
	}
	c.raw(`{"id":"chatcmpl-stub","object":"chat.completion.chunk","created":1700000000,"model":"` + req.Model + `","choices":[],"usage":{"prompt_tokens":31,"completion_tokens":17,"total_tokens":48}}`)
	c.raw("[DONE]")
}

// exprOf returns what follows "compute " in the user's message.
func exprOf(user string) string {
	_, expr, _ := strings.Cut(user, "compute ")
	return expr
}

type chunker struct {
	w     http.ResponseWriter
	model string
}

func (c chunker) delta(delta, finish string) {
	fr := "null"
	if finish != "" {
		fr = `"` + finish + `"`
	}
	c.raw(fmt.Sprintf(`{"id":"chatcmpl-stub","object":"chat.completion.chunk","created":1700000000,"model":%q,"system_fingerprint":"fp_stub","choices":[{"index":0,"delta":%s,"logprobs":null,"finish_reason":%s}]}`, c.model, delta, fr))
}

func (c chunker) raw(data string) {
	fmt.Fprintf(c.w, "data: %s\n\n", data)
	c.w.(http.Flusher).Flush()
}

func splitEvery(s string, n int) []string {
	var out []string
	for len(s) > n {
		out = append(out, s[:n])
		s = s[n:]
	}
	return append(out, s)
}
