package core

import (
	"context"
	"net/url"

	"github.com/chatwire/chatwire/internal/hubport"
)

// The adapter-only operations of a Hub (admission, joining before the upgrade, serving an
// upgraded connection) are offered to adapter authors by package adapters/adapterkit,
// which reaches them through internal/hubport; they are not part of core's API.
func init() {
	hubport.Register(func(hub any) hubport.Hub { return adapterPort{hub.(*Hub)} })
}

// adapterPort is a Hub as adapters see it.
type adapterPort struct{ h *Hub }

var _ hubport.Hub = adapterPort{}

func (p adapterPort) Admit(ctx context.Context, info *hubport.ConnInfo, query url.Values) (string, error) {
	return p.h.admit(ctx, info, query)
}

func (p adapterPort) Prepare(ctx context.Context, info hubport.ConnInfo) (hubport.Pending, error) {
	pd, err := p.h.prepare(ctx, info)
	if err != nil {
		return nil, err
	}
	return pd, nil
}

func (p adapterPort) Serve(ctx context.Context, ws hubport.Conn, info hubport.ConnInfo) error {
	return p.h.serve(ctx, ws, info)
}

func (p adapterPort) Track() (done func(), ok bool) {
	h := p.h
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closing {
		return nil, false
	}
	h.wg.Add(1)
	return h.wg.Done, true
}
