package redisstore_test

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/chatwire/chatwire/adapters/adaptertest"
	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/redisstore"
	"github.com/chatwire/chatwire/storage"
)

// redisCPU returns the CPU time the Redis server has used (INFO cpu, user + system).
func redisCPU(t *testing.T, c *redis.Client) time.Duration {
	t.Helper()
	info, err := c.Info(context.Background(), "cpu").Result()
	if err != nil {
		t.Fatal(err)
	}
	var total float64
	for _, line := range strings.Split(info, "\n") {
		name, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if ok && (name == "used_cpu_user" || name == "used_cpu_sys") {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("INFO cpu line %q", line)
			}
			total += f
		}
	}
	return time.Duration(total * float64(time.Second))
}

// commandCalls sums the calls of every command in INFO commandstats, except the ones the
// measurement itself sends.
func commandCalls(t *testing.T, c *redis.Client) (total int64, by map[string]int64) {
	t.Helper()
	info, err := c.Info(context.Background(), "commandstats").Result()
	if err != nil {
		t.Fatal(err)
	}
	by = map[string]int64{}
	for _, line := range strings.Split(info, "\n") {
		name, rest, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok || !strings.HasPrefix(name, "cmdstat_") {
			continue
		}
		name = strings.TrimPrefix(name, "cmdstat_")
		if name == "info" || name == "config|resetstat" || name == "config" {
			continue
		}
		calls, _, _ := strings.Cut(strings.TrimPrefix(rest, "calls="), ",")
		n, err := strconv.ParseInt(calls, 10, 64)
		if err != nil {
			t.Fatalf("commandstats line %q", line)
		}
		by[name] = n
		total += n
	}
	return total, by
}

// TestCommandsPerMessage counts, with a real Redis's INFO commandstats, the commands a hub
// causes per stored message while a client sends into a session whose history is full
// (the hub's limit of 100 reached, so every append trims), with a subscriber on another
// instance. Scripts count as one call (EVALSHA) plus the commands they run. Target: <= 7.
func TestCommandsPerMessage(t *testing.T) {
	srv := startRedis(t, "--appendonly", "no")
	newClient := func() *redis.Client {
		c := redis.NewClient(&redis.Options{Addr: srv.addr()})
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
	admin := newClient()
	var urls [2]string
	for i := range urls {
		st := newStore(t, newClient(), redisstore.Options{})
		h := core.NewHub(core.Options{Store: st, MaxStoredMessages: 100, StoreTimeout: 5 * time.Second})
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = h.Shutdown(ctx)
		})
		urls[i] = mountWS(t, h, adaptertest.Config{})
	}
	q := url.Values{"sessionId": {"cost"}}
	writer := adaptertest.DialJoined(t, urls[0], q, nil)
	watcher := adaptertest.DialJoined(t, urls[1], q, nil)
	send := func(from, n int) {
		for i := from; i < from+n; i++ {
			writer.Send(core.Message{ID: fmt.Sprintf("m-%05d", i), Type: core.TypeMessage, Content: strings.Repeat("x", 100)})
			if got := writer.Read(); got.ID != fmt.Sprintf("m-%05d", i) {
				t.Fatalf("writer got %+v", got)
			}
		}
	}
	send(0, 150) // fill the history past its limit
	for range 150 {
		watcher.Read()
	}
	if err := admin.ConfigResetStat(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	const n = 1000
	cpu := redisCPU(t, admin)
	send(150, n)
	cpu = redisCPU(t, admin) - cpu
	for range n {
		watcher.Read()
	}
	total, by := commandCalls(t, admin)
	per := float64(total) / n
	t.Logf("%d messages: %d Redis commands, %.2f per stored message: %v; Redis CPU %v per message (informative)", n, total, per, by, cpu/n)
	if per > 7 {
		t.Errorf("%.2f Redis commands per stored message, want <= 7", per)
	}
}

// TestReconnectRoundTrips measures the Redis round trips a reconnect makes before its 101
// (Prepare: join the session and read the replay), on an instance where the session has no
// other connection, through a proxy that delays Redis's replies by 150 ms: the time the
// dial takes, divided by the delay, is the number of round trips. The replay of 100
// stored messages, the head, the lookup of lastMessageId and the running streams are one
// pipelined round trip (Store.Join); the subscription is the other. Connections are warm.
func TestReconnectRoundTrips(t *testing.T) {
	const delay = 150 * time.Millisecond
	direct, slow := delayedRedis(t, delay)

	ctx := context.Background()
	filler := newStore(t, direct, redisstore.Options{})
	var ids []string
	for i := range 101 {
		rec, err := filler.Append(ctx, "replay", core.Message{ID: fmt.Sprintf("r-%03d", i), Type: core.TypeMessage, Content: "hello"}, 100)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, rec.Message.ID)
	}
	st := newStore(t, slow, redisstore.Options{})
	h := newTestHub(t, st)
	u := mountWS(t, h, adaptertest.Config{})
	// Warm the pool and the pub/sub connection with another session.
	adaptertest.DialJoined(t, u, url.Values{"sessionId": {"warm"}}, nil)

	start := time.Now()
	c := adaptertest.Dial(t, u, url.Values{"sessionId": {"replay"}, "lastMessageId": {ids[1]}}, nil)
	elapsed := time.Since(start)
	got := c.ReadN(99)
	if got[0].ID != ids[2] || got[98].ID != ids[100] {
		t.Fatalf("replay from %s to %s, want %s to %s", got[0].ID, got[98].ID, ids[2], ids[100])
	}
	trips := int(elapsed / delay)
	t.Logf("reconnect with a replay of 99 messages: %v to the 101 with Redis replies delayed %v: %d round trips", elapsed, delay, trips)
	if trips > 2 {
		t.Errorf("%d Redis round trips before the 101 (%v), want <= 2", trips, elapsed)
	}
}

// TestJoinAfterScriptFlush: Join sends its scripts by hash in a pipeline; when Redis has
// forgotten them (a restart, SCRIPT FLUSH), it sends them again in full.
func TestJoinAfterScriptFlush(t *testing.T) {
	srv := startRedis(t, "--appendonly", "no")
	c := redis.NewClient(&redis.Options{Addr: srv.addr()})
	t.Cleanup(func() { _ = c.Close() })
	s := newStore(t, c, redisstore.Options{})
	ctx := context.Background()
	if _, err := s.Append(ctx, "f", testMsg("a"), 10); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := c.ScriptFlush(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		j, err := s.Join(ctx, "f", storage.JoinRequest{Replay: true})
		if err != nil || len(j.Page.Records) != 1 || j.Page.Epoch == "" {
			t.Fatalf("Join after SCRIPT FLUSH = %+v, %v", j, err)
		}
	}
}

// TestQuickReconnectKeepsSubscription: a client that reconnects within SessionLinger (a
// reload) finds its session still subscribed on the instance, so its reconnect makes one
// Redis round trip before the 101 (the join), not two; once the linger has passed without a
// connection the instance unsubscribes, and Shutdown ends a lingering session at once.
func TestQuickReconnectKeepsSubscription(t *testing.T) {
	const delay = 150 * time.Millisecond
	direct, slow := delayedRedis(t, delay)
	ctx := context.Background()
	const linger = 3 * time.Second
	h := core.NewHub(core.Options{Store: newStore(t, slow, redisstore.Options{}), SessionLinger: linger})
	u := mountWS(t, h, adaptertest.Config{})
	channel := "chatwire:{reload}:live"
	subscribers := func() int64 {
		n, err := direct.PubSubNumSub(ctx, channel).Result()
		if err != nil {
			t.Fatal(err)
		}
		return n[channel]
	}

	first := adaptertest.DialJoined(t, u, url.Values{"sessionId": {"reload"}}, nil)
	_ = first.Conn.Close()
	eventually(t, "the first connection gone", func() bool { return h.ConnCount() == 0 })
	start := time.Now()
	again := adaptertest.Dial(t, u, url.Values{"sessionId": {"reload"}}, nil)
	elapsed := time.Since(start)
	if trips := int(elapsed / delay); trips > 1 {
		t.Errorf("reconnect within the linger: %d Redis round trips before the 101 (%v), want 1", trips, elapsed)
	}
	if n := subscribers(); n != 1 {
		t.Fatalf("%d subscribers to the session's channel while connected, want 1", n)
	}
	_ = again.Conn.Close()
	eventually(t, "the second connection gone", func() bool { return h.ConnCount() == 0 })
	if n := subscribers(); n != 1 {
		t.Fatalf("%d subscribers right after the last connection left, want 1 (lingering)", n)
	}
	eventually(t, "unsubscribed after the linger", func() bool { return subscribers() == 0 })

	// Shutdown does not wait for a linger to pass.
	third := adaptertest.DialJoined(t, u, url.Values{"sessionId": {"reload"}}, nil)
	_ = third.Conn.Close()
	eventually(t, "the third connection gone", func() bool { return h.ConnCount() == 0 })
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	shutdown := time.Now()
	if err := h.Shutdown(sctx); err != nil {
		t.Fatal(err)
	}
	eventually(t, "unsubscribed at shutdown", func() bool { return subscribers() == 0 })
	if took := time.Since(shutdown); took >= linger {
		t.Fatalf("unsubscribed %v after Shutdown: it waited for the linger (%v)", took, linger)
	}
}

// delayedRedis starts a redis-server and returns a client to it and a client whose replies
// a proxy delays by delay, so a test can count round trips by time.
func delayedRedis(t *testing.T, delay time.Duration) (direct, slow *redis.Client) {
	t.Helper()
	srv := startRedis(t, "--appendonly", "no")
	proxy := newLatencyProxy(t, srv.addr(), delay)
	direct = redis.NewClient(&redis.Options{Addr: srv.addr()})
	t.Cleanup(func() { _ = direct.Close() })
	slow = redis.NewClient(&redis.Options{Addr: proxy.ln.Addr().String(), ReadTimeout: 5 * time.Second})
	t.Cleanup(func() { _ = slow.Close() })
	return direct, slow
}
