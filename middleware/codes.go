package middleware

import (
	"errors"

	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/storage"
)

// Codes RejectionCode returns besides the codes of *core.Error.
const (
	// CodePolicyViolation: a Guard closed the connection (core.ErrPolicyViolation).
	CodePolicyViolation core.ErrorCode = "POLICY_VIOLATION"
	// CodeDuplicate: a retried message was already stored (storage.ErrDuplicate); not an error.
	CodeDuplicate core.ErrorCode = "DUPLICATE"
)

// RejectionCode returns a short, bounded label for the Err of a core.FrameIn with phase
// core.FrameRejected, for logs and metrics: the Code of a *core.Error (RATE_LIMITED,
// INVALID_MESSAGE, ...), CodePolicyViolation, CodeDuplicate, core.CodeInternal for anything
// else, and "" for nil. It never returns an error's text.
func RejectionCode(err error) core.ErrorCode {
	var e *core.Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	case errors.Is(err, core.ErrPolicyViolation):
		return CodePolicyViolation
	case errors.Is(err, storage.ErrDuplicate):
		return CodeDuplicate
	}
	return core.CodeInternal
}
