package envelope

// RefusalCloseCode is the close code of a refusal frame: 4000 + the HTTP status the refusal
// would have had (4401 unauthenticated, 4403 forbidden, 4404 session not found, 4429 too
// many connections, 4503 draining or unavailable), or 4000 for a status outside 400-599.
func RefusalCloseCode(status int) int {
	if status >= 400 && status <= 599 {
		return 4000 + status
	}
	return 4000
}

// RefusalPermanent reports whether a refusal with this HTTP status (or its close code) will
// not change by itself, so a client should stop retrying: 4xx statuses other than 408 and
// 429. 5xx statuses, 408 and 429 are worth retrying with backoff.
func RefusalPermanent(statusOrCloseCode int) bool {
	s := statusOrCloseCode
	if s >= 4000 {
		s -= 4000
	}
	return s >= 400 && s < 500 && s != 408 && s != 429
}
