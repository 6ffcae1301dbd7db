package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// The load generator speaks two protocols: chatwire's (every server but centrifuge: a JSON
// envelope per frame, sessionId and history=all in the query) and centrifuge's JSON protocol
// (connect, subscribe with recovery, publish; replies may share a frame, one per line).

// content is the 100-byte message of every round trip.
var content = strings.Repeat("0123456789", 10)

var (
	assistantMark = []byte(`"role":"assistant"`)
	messageMark   = []byte(`"type":"message"`)
)

func isCentrifuge(impl string) bool { return strings.HasPrefix(impl, "centrifuge") }

func isSession(impl string) bool { return !strings.HasSuffix(impl, "-stateless") }

// client is one load-generator connection.
type client struct {
	ws      *websocket.Conn
	cf      bool   // centrifuge protocol
	channel string // centrifuge channel (the session)
	nextID  int
	epoch   string // centrifuge stream epoch, from the subscribe reply
}

// dial connects to the session; with history, the session's retained history is replayed
// (centrifuge: recovered from offset 0 of epoch) and onFrame sees each frame as it arrives.
func dial(ctx context.Context, addr, impl, session string, history bool, epoch string, onFrame func([]byte) bool) (*client, error) {
	q := url.Values{}
	cf := isCentrifuge(impl)
	if !cf {
		q.Set("sessionId", session)
		if history {
			q.Set("history", "all")
		}
	}
	u := "ws://" + addr + "/ws"
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	d := websocket.Dialer{HandshakeTimeout: 10 * time.Second}
	ws, _, err := d.DialContext(ctx, u, nil)
	if err != nil {
		return nil, err
	}
	c := &client{ws: ws, cf: cf, channel: session}
	if !cf {
		if onFrame != nil {
			for {
				_, b, err := ws.ReadMessage()
				if err != nil {
					_ = ws.Close()
					return nil, err
				}
				if onFrame(b) {
					break
				}
			}
		}
		return c, nil
	}
	if _, err := c.command(`"connect":{}`); err != nil {
		_ = ws.Close()
		return nil, err
	}
	sub := `"subscribe":{"channel":` + strconv.Quote(session) + `}`
	if history {
		sub = `"subscribe":{"channel":` + strconv.Quote(session) + `,"recover":true,"epoch":` + strconv.Quote(epoch) + `,"offset":0}`
	}
	reply, err := c.command(sub)
	if err != nil {
		_ = ws.Close()
		return nil, err
	}
	if onFrame != nil {
		onFrame(reply)
	}
	var r struct {
		Subscribe struct {
			Epoch string `json:"epoch"`
		} `json:"subscribe"`
	}
	if json.Unmarshal(reply, &r) == nil {
		c.epoch = r.Subscribe.Epoch
	}
	return c, nil
}

// command sends one centrifuge command and returns the line of its reply.
func (c *client) command(body string) ([]byte, error) {
	c.nextID++
	id := strconv.Itoa(c.nextID)
	if err := c.ws.WriteMessage(websocket.TextMessage, []byte(`{"id":`+id+`,`+body+`}`)); err != nil {
		return nil, err
	}
	prefix := []byte(`{"id":` + id + `,`)
	for {
		_, b, err := c.ws.ReadMessage()
		if err != nil {
			return nil, err
		}
		for line := range bytes.SplitSeq(b, []byte("\n")) {
			if bytes.HasPrefix(line, prefix) {
				if bytes.Contains(line, []byte(`"error":`)) {
					return nil, fmt.Errorf("centrifuge: %s", line)
				}
				return line, nil
			}
		}
	}
}

// roundTrip sends the 100-byte message and reads until the reply arrives.
func (c *client) roundTrip() error {
	env := `{"type":"message","content":"` + content + `"}`
	var frame string
	if c.cf {
		c.nextID++
		frame = `{"id":` + strconv.Itoa(c.nextID) + `,"publish":{"channel":` + strconv.Quote(c.channel) + `,"data":` + env + `}}`
	} else {
		frame = env
	}
	if err := c.ws.WriteMessage(websocket.TextMessage, []byte(frame)); err != nil {
		return err
	}
	for {
		_, b, err := c.ws.ReadMessage()
		if err != nil {
			return err
		}
		if c.cf && len(b) == 2 && string(b) == "{}" { // centrifuge ping
			if err := c.ws.WriteMessage(websocket.TextMessage, b); err != nil {
				return err
			}
			continue
		}
		if bytes.Contains(b, assistantMark) {
			return nil
		}
	}
}

func (c *client) close() { _ = c.ws.Close() }

// rtResult is what one round-trip cell measured.
type rtResult struct {
	RoundTrips int     // in the window
	PerSec     float64 // round trips per second
	CPUms      float64 // server CPU in the window
	Redis      redisDelta
}

// runRoundTrips connects conns clients (one session each) and runs sequential round trips
// on every one; it measures the window that follows warmup.
func runRoundTrips(addr, impl string, conns int, warmup, window time.Duration, snap func() snapshot, profile func(time.Duration) error) (rtResult, error) {
	ctx, cancel := context.WithTimeout(context.Background(), warmup+window+60*time.Second)
	defer cancel()
	clients := make([]*client, conns)
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	prefix := newID()[:8]
	for i := range clients {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			c, err := dial(ctx, addr, impl, "s-"+prefix+"-"+strconv.Itoa(i), false, "", nil)
			mu.Lock()
			defer mu.Unlock()
			if err != nil && firstErr == nil {
				firstErr = err
			}
			clients[i] = c
		}()
	}
	wg.Wait()
	defer func() {
		for _, c := range clients {
			if c != nil {
				c.close()
			}
		}
	}()
	if firstErr != nil {
		return rtResult{}, fmt.Errorf("dial: %w", firstErr)
	}
	var count atomic.Int64
	var stop atomic.Bool
	errs := make(chan error, conns)
	for _, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				_ = c.ws.SetReadDeadline(time.Now().Add(30 * time.Second))
				if err := c.roundTrip(); err != nil {
					if !stop.Load() {
						errs <- err
					}
					return
				}
				count.Add(1)
			}
		}()
	}
	time.Sleep(warmup)
	perr := make(chan error, 1)
	if profile != nil {
		go func() { perr <- profile(window) }()
	} else {
		perr <- nil
	}
	s1, n1, t1 := snap(), count.Load(), time.Now()
	time.Sleep(window)
	s2, n2, t2 := snap(), count.Load(), time.Now()
	if err := <-perr; err != nil {
		return rtResult{}, fmt.Errorf("profile: %w", err)
	}
	stop.Store(true)
	for _, c := range clients {
		_ = c.ws.SetReadDeadline(time.Now())
	}
	wg.Wait()
	select {
	case err := <-errs:
		return rtResult{}, fmt.Errorf("round trip: %w", err)
	default:
	}
	n := int(n2 - n1)
	if n == 0 {
		return rtResult{}, errors.New("no round trip completed in the window")
	}
	return rtResult{
		RoundTrips: n,
		PerSec:     float64(n) / t2.Sub(t1).Seconds(),
		CPUms:      s2.cpuMS - s1.cpuMS,
		Redis:      s2.redis.sub(s1.redis),
	}, nil
}

// replayResult is what one replay cell measured.
type replayResult struct {
	MedianMS    float64 // connect to the last of the replayed messages
	Reconnects  int
	RedisPerRec float64 // Redis commands per reconnect
}

// runReplay stores historySize messages in a session (historySize/2 round trips), then
// reconnects n times asking for the history and times each until the last replayed message.
func runReplay(addr, impl string, n int, snap func() snapshot) (replayResult, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	session := "replay-" + newID()[:8]
	c, err := dial(ctx, addr, impl, session, false, "", nil)
	if err != nil {
		return replayResult{}, err
	}
	for range historySize / 2 {
		if err := c.roundTrip(); err != nil {
			c.close()
			return replayResult{}, err
		}
	}
	epoch := c.epoch
	c.close()
	s1 := snap()
	times := make([]float64, 0, n)
	for range n {
		got := 0
		start := time.Now()
		rc, err := dial(ctx, addr, impl, session, true, epoch, func(b []byte) bool {
			got += bytes.Count(b, messageMark)
			return got >= historySize
		})
		if err != nil {
			return replayResult{}, err
		}
		d := time.Since(start)
		rc.close()
		if got < historySize {
			return replayResult{}, fmt.Errorf("replayed %d of %d messages", got, historySize)
		}
		times = append(times, float64(d.Microseconds())/1000)
	}
	s2 := snap()
	rd := s2.redis.sub(s1.redis)
	return replayResult{MedianMS: median(times), Reconnects: n, RedisPerRec: float64(rd.Commands) / float64(n)}, nil
}
