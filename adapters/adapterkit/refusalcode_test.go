package adapterkit_test

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/chatwire/chatwire/adapters/adapterkit"
	"github.com/chatwire/chatwire/core"
)

func TestRefusalCode(t *testing.T) {
	tests := []struct {
		status int
		err    error
		want   core.ErrorCode
	}{
		{400, nil, core.CodeInvalidRequest},
		{401, errors.New("bad token"), core.CodeUnauthenticated},
		{403, nil, core.CodeForbidden},
		{404, nil, core.CodeSessionNotFound},
		{429, nil, core.CodeTooManyConnections},
		{503, fmt.Errorf("x: %w", core.ErrHubClosed), core.CodeServerDraining},
		{503, fmt.Errorf("x: %w", core.ErrStoreUnavailable), core.CodeSessionUnavailable},
		{503, errors.New("identity provider down"), core.CodeUnavailable},
		{402, nil, core.CodeRefused},
		{401, &core.HandshakeError{Status: 401, Body: "Token expired", Code: "TOKEN_EXPIRED"}, "TOKEN_EXPIRED"},
		{http.StatusServiceUnavailable, &core.HandshakeError{Status: 503, Body: "Session unavailable", Code: core.CodeSessionUnavailable}, core.CodeSessionUnavailable},
	}
	for _, tt := range tests {
		if got := adapterkit.RefusalCode(tt.status, tt.err); got != tt.want {
			t.Errorf("RefusalCode(%d, %v) = %s, want %s", tt.status, tt.err, got, tt.want)
		}
	}
}
