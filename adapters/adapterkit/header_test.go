package adapterkit

import (
	"net/http"
	"reflect"
	"testing"
)

// TestHeaderOf: every visited header is copied, repeated keys keep their values in order,
// keys are canonicalised, Host is left out (in any case), and the result does not alias the
// visited bytes.
func TestHeaderOf(t *testing.T) {
	raw := [][2][]byte{
		{[]byte("host"), []byte("chat.example.com")},
		{[]byte("x-token"), []byte("a")},
		{[]byte("Cookie"), []byte("s=1")},
		{[]byte("X-Token"), []byte("b")},
	}
	h := HeaderOf(len(raw), func(fn func(k, v []byte)) {
		for _, kv := range raw {
			fn(kv[0], kv[1])
		}
	})
	want := http.Header{"X-Token": {"a", "b"}, "Cookie": {"s=1"}}
	if !reflect.DeepEqual(h, want) {
		t.Fatalf("HeaderOf = %v, want %v", h, want)
	}
	raw[1][1][0] = 'z' // the framework reuses its buffers
	if h.Get("X-Token") != "a" {
		t.Fatal("HeaderOf aliases the visited bytes")
	}
}
