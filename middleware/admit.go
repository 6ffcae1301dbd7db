package middleware

import (
	"context"
	"sync"

	"github.com/chatwire/chatwire/core"
)

// Admit combines AdmitFuncs into one that admits a connection only when every one of them
// does. They run in order, each on its own copy of the request whose Principal is the one
// the functions before it decided (so a session authorizer placed after Auth sees the
// verified principal). The combined Admission has:
//
//   - Principal: the last one set;
//   - Subprotocol: the first one set (later ones are ignored);
//   - Expires: the earliest one set;
//   - Release: calls every function's Release exactly once, in reverse order.
//
// When one function refuses, the Releases of the ones before it are called at once and its
// error is returned unchanged, so the adapter answers with its status (see adapterkit.RefusalOf).
// Nil functions are skipped.
func Admit(fns ...core.AdmitFunc) core.AdmitFunc {
	list := make([]core.AdmitFunc, 0, len(fns))
	for _, f := range fns {
		if f != nil {
			list = append(list, f)
		}
	}
	switch len(list) {
	case 0:
		return nil
	case 1:
		return list[0]
	}
	return func(ctx context.Context, req *core.AdmitRequest) (core.Admission, error) {
		var out core.Admission
		var releases []func()
		principal := req.Principal
		for _, f := range list {
			r := *req
			r.Principal = principal
			adm, err := f(ctx, &r)
			if err != nil {
				releaseAll(releases)
				return core.Admission{}, err
			}
			if adm.Principal != nil {
				principal = adm.Principal
				out.Principal = adm.Principal
			}
			if out.Subprotocol == "" {
				out.Subprotocol = adm.Subprotocol
			}
			if !adm.Expires.IsZero() && (out.Expires.IsZero() || adm.Expires.Before(out.Expires)) {
				out.Expires = adm.Expires
			}
			if adm.Release != nil {
				releases = append(releases, adm.Release)
			}
		}
		if len(releases) > 0 {
			var once sync.Once
			out.Release = func() { once.Do(func() { releaseAll(releases) }) }
		}
		return out, nil
	}
}

// releaseAll calls fs in reverse order.
func releaseAll(fs []func()) {
	for i := len(fs) - 1; i >= 0; i-- {
		fs[i]()
	}
}
