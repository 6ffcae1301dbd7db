package core_test

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

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
		if got := core.RefusalCode(tt.status, tt.err); got != tt.want {
			t.Errorf("RefusalCode(%d, %v) = %s, want %s", tt.status, tt.err, got, tt.want)
		}
	}
}

func TestRefusalCloseCodeAndPermanence(t *testing.T) {
	tests := []struct {
		status    int
		close     int
		permanent bool
	}{
		{400, 4400, true}, {401, 4401, true}, {403, 4403, true}, {404, 4404, true},
		{408, 4408, false}, {429, 4429, false}, {500, 4500, false}, {503, 4503, false},
		{200, 4000, false},
	}
	for _, tt := range tests {
		if got := core.RefusalCloseCode(tt.status); got != tt.close {
			t.Errorf("RefusalCloseCode(%d) = %d, want %d", tt.status, got, tt.close)
		}
		if got := core.RefusalPermanent(tt.status); got != tt.permanent {
			t.Errorf("RefusalPermanent(%d) = %v", tt.status, got)
		}
		if tt.close != 4000 && core.RefusalPermanent(tt.close) != tt.permanent {
			t.Errorf("RefusalPermanent(%d) disagrees with its status", tt.close)
		}
	}
}
