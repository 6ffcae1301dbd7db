package envelope_test

import (
	"testing"

	"github.com/chatwire/chatwire/envelope"
)

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
		if got := envelope.RefusalCloseCode(tt.status); got != tt.close {
			t.Errorf("RefusalCloseCode(%d) = %d, want %d", tt.status, got, tt.close)
		}
		if got := envelope.RefusalPermanent(tt.status); got != tt.permanent {
			t.Errorf("RefusalPermanent(%d) = %v", tt.status, got)
		}
		if tt.close != 4000 && envelope.RefusalPermanent(tt.close) != tt.permanent {
			t.Errorf("RefusalPermanent(%d) disagrees with its status", tt.close)
		}
	}
}
