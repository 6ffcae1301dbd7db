package adapterkit

import (
	"bytes"
	"net/http"
)

var hostKey = []byte("Host")

// HeaderOf builds an http.Header from a framework's header visitor, such as fasthttp's
// RequestHeader.VisitAll, with n a capacity hint. Host is left out, as in net/http's
// Request.Header (Parts carries it). Keys and values are copied, so the header outlives the
// framework's request buffers.
func HeaderOf(n int, visitAll func(fn func(key, value []byte))) http.Header {
	h := make(http.Header, n)
	visitAll(func(k, v []byte) {
		if bytes.EqualFold(k, hostKey) {
			return
		}
		h.Add(string(k), string(v))
	})
	return h
}
