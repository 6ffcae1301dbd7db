package main

import (
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/examples/internal/demo"
	"github.com/chatwire/chatwire/examples/internal/demo/demotest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// startCluster starts two instances as main does, sharing one embedded Redis, and returns
// their base URLs.
func startCluster(t *testing.T, args ...string) [2]string {
	t.Helper()
	url, stop, err := demo.EmbeddedRedis()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	flags := demotest.Flags(t, args...)
	var bases [2]string
	for i := range bases {
		store, closeStore, err := demo.OpenRedisStore(url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = closeStore() })
		hub := core.NewHub(flags.HubOptions(flags.Bot(), store, nil))
		srv := httptest.NewServer(demo.Routes(hub, demo.RouteOptions{}))
		t.Cleanup(srv.Close)
		demotest.ShutdownOnCleanup(t, hub)
		bases[i] = srv.URL
	}
	return bases
}

// Both instances serve every endpoint.
func TestEndpoints(t *testing.T) {
	for i, base := range startCluster(t, demotest.StreamArgs...) {
		t.Logf("instance %d", i+1)
		demotest.CheckFakeModel(t, demotest.Endpoints(t, base))
	}
}

// A useChat reply started on one instance resumes on the other with the same message id,
// and a stop sent to the other instance ends it where it runs.
func TestResumeAndStopAcrossInstances(t *testing.T) {
	bases := startCluster(t, "-stream", "-word-delay", "20ms")
	chat := core.NewID()
	res := demotest.StartChat(t, bases[0], chat, "a long question")
	first := make(chan []demotest.Chunk, 1)
	go func() { // ends when the reply's stream ends
		defer res.Body.Close()
		first <- demotest.ReadSSE(t, res.Body)
	}()

	deadline := time.Now().Add(demotest.Timeout)
	resumed := demotest.Resume(t, bases[1], chat)
	for resumed == nil && time.Now().Before(deadline) { // 204 until the reply has started
		time.Sleep(10 * time.Millisecond)
		resumed = demotest.Resume(t, bases[1], chat)
	}
	if resumed == nil {
		t.Fatal("the reply never showed up on the other instance")
	}
	second := make(chan []demotest.Chunk, 1)
	go func() {
		defer resumed.Body.Close()
		second <- demotest.ReadSSE(t, resumed.Body)
	}()

	time.Sleep(200 * time.Millisecond) // let some of the reply stream
	stopped := demotest.Stop(t, bases[1], chat)
	if len(stopped) != 1 {
		t.Fatalf("stop on the other instance stopped %v, want the one reply", stopped)
	}
	a, b := <-first, <-second
	if len(a) == 0 || len(b) == 0 || a[0]["messageId"] != stopped[0] || b[0]["messageId"] != stopped[0] {
		t.Fatalf("start chunks %v / %v, want both with message id %s", a[:min(1, len(a))], b[:min(1, len(b))], stopped[0])
	}
	for name, chunks := range map[string][]demotest.Chunk{"the POST": a, "the resume": b} {
		types := demotest.ChunkTypes(chunks)
		if !slices.Contains(types, "abort") || types[len(types)-1] != "finish" || slices.Contains(types, "text-end") {
			t.Fatalf("%s ended %v, want an abort before the text's end", name, types)
		}
	}
	// The resume got the reply so far (at least the start of its reasoning) before the stop.
	if types := demotest.ChunkTypes(b); !slices.Contains(types, "reasoning-delta") {
		t.Fatalf("the resume carried %v, want the reasoning so far", types)
	}
}
