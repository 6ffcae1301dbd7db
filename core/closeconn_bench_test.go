package core

import (
	"context"
	"strconv"
	"testing"
)

// BenchmarkCloseConn looks a connection up by id among n registered ones: the time per call
// stays flat from 1,000 to 100,000 connections (CloseConn is a map access, not a scan).
// The connections are prepared but never upgraded, so no socket is involved.
func BenchmarkCloseConn(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 100_000} {
		b.Run("conns="+strconv.Itoa(n), func(b *testing.B) {
			h := NewHub(Options{})
			pending := make([]*pending, n)
			ids := make([]string, n)
			for i := range pending {
				p, err := h.prepare(context.Background(), connInfo{})
				if err != nil {
					b.Fatal(err)
				}
				pending[i], ids[i] = p, p.c.id
			}
			b.ResetTimer()
			i := 0
			for b.Loop() {
				if !h.CloseConn(ids[i], CloseServiceRestart, "max connection age") {
					b.Fatal("connection not found")
				}
				if i++; i == n {
					i = 0
				}
			}
			b.StopTimer()
			for _, p := range pending {
				p.Abort()
			}
			if err := h.Shutdown(context.Background()); err != nil {
				b.Fatal(err)
			}
		})
	}
}
