package middleware

import (
	"context"
	"slices"

	"github.com/chatwire/chatwire/core"
)

// Hooks is what one middleware contributes to a hub. Every field is optional. Combine
// several with Chain and install the result with Apply, which puts everything (admission
// before the upgrade, guards and observers) on the hub's Options; every adapter then reads
// the admission from the hub:
//
//	mw := middleware.Chain(logging, limits, maxAge.Hooks())
//	hub := core.NewHub(mw.Apply(core.Options{Handler: bot}))
//	http.Handle("/chat", wshttp.New(hub, wshttp.Options{}))
type Hooks struct {
	// Admit decides before the upgrade whether a connection may be made; see Admit for how
	// several combine.
	Admit core.AdmitFunc
	// OnRefuse observes an upgrade that the Admit of a Chain refused, with the error that
	// refused it (see adapterkit.RefusalOf for the status the client got); Chain's Admit calls it.
	// It never sees the adapter's own refusals (origin, malformed request) nor the hub's
	// (session store unavailable, shutting down).
	OnRefuse func(req *core.AdmitRequest, err error)
	// Guards check each inbound message; see core.Guard.
	Guards []core.Guard
	// OnConnect, OnDisconnect, OnFrameIn and OnFrameOut observe the hub; see core.Options.
	OnConnect    func(core.ConnEvent)
	OnDisconnect func(core.DisconnectEvent)
	OnFrameIn    func(core.FrameIn)
	OnFrameOut   func(core.FrameOut)
}

// Chain combines hooks into one Hooks, in order: each observer is called in the order given
// (OnDisconnect too), Guards are concatenated, and the Admit functions are combined with
// Admit, with the OnRefuse observers called when the combination refuses. A panic in one
// observer is recovered by the hub and skips the observers after it for that event.
func Chain(hooks ...Hooks) Hooks {
	var out Hooks
	var admits []core.AdmitFunc
	var refuse []func(*core.AdmitRequest, error)
	var connect []func(core.ConnEvent)
	var disconnect []func(core.DisconnectEvent)
	var in []func(core.FrameIn)
	var outs []func(core.FrameOut)
	for _, h := range hooks {
		out.Guards = append(out.Guards, h.Guards...)
		if h.Admit != nil {
			admits = append(admits, h.Admit)
		}
		if h.OnRefuse != nil {
			refuse = append(refuse, h.OnRefuse)
		}
		connect = add(connect, h.OnConnect)
		disconnect = add(disconnect, h.OnDisconnect)
		in = add(in, h.OnFrameIn)
		outs = add(outs, h.OnFrameOut)
	}
	if len(admits) > 0 {
		out.Admit = Admit(admits...)
	}
	if len(refuse) > 0 {
		out.OnRefuse = func(req *core.AdmitRequest, err error) {
			for _, f := range refuse {
				f(req, err)
			}
		}
	}
	if out.OnRefuse != nil && out.Admit != nil {
		admit, onRefuse := out.Admit, out.OnRefuse
		out.Admit = func(ctx context.Context, req *core.AdmitRequest) (core.Admission, error) {
			adm, err := admit(ctx, req)
			if err != nil {
				onRefuse(req, err)
			}
			return adm, err
		}
	}
	out.OnConnect = fanOut(connect)
	out.OnDisconnect = fanOut(disconnect)
	out.OnFrameIn = fanOut(in)
	out.OnFrameOut = fanOut(outs)
	return out
}

// Apply returns a copy of opts with h installed after what opts already has: opts.Admit
// runs first, then h.Admit (combined as Admit does; OnRefuse observes h.Admit's refusals),
// opts' own observers run first and its Guards check first. opts is not modified. This one
// call wires a middleware chain completely: adapters take admission from the hub.
func (h Hooks) Apply(opts core.Options) core.Options {
	opts.Admit = Admit(opts.Admit, h.Admit)
	opts.Guards = append(append([]core.Guard(nil), opts.Guards...), h.Guards...)
	opts.OnConnect = fanOut(add(add(nil, opts.OnConnect), h.OnConnect))
	opts.OnDisconnect = fanOut(add(add(nil, opts.OnDisconnect), h.OnDisconnect))
	opts.OnFrameIn = fanOut(add(add(nil, opts.OnFrameIn), h.OnFrameIn))
	opts.OnFrameOut = fanOut(add(add(nil, opts.OnFrameOut), h.OnFrameOut))
	return opts
}

// add appends f to list unless it is nil.
func add[T any](list []func(T), f func(T)) []func(T) {
	if f == nil {
		return list
	}
	return append(list, f)
}

// fanOut returns one function that calls each of fs with its argument, nil for none.
func fanOut[T any](fs []func(T)) func(T) {
	switch len(fs) {
	case 0:
		return nil
	case 1:
		return fs[0]
	}
	fs = slices.Clone(fs)
	return func(v T) {
		for _, f := range fs {
			f(v)
		}
	}
}
