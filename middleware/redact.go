package middleware

import (
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/chatwire/chatwire/adapters/adapterkit"
)

// Redacted replaces every redacted value.
const Redacted = "REDACTED"

// RedactQuery returns q encoded as a query string in which the value of every parameter is
// replaced by "REDACTED", except sessionId, lastMessageId and the parameters named in keep.
// It redacts by default, so a token parameter of any name never reaches a log. Keys are
// sorted, as by url.Values.Encode.
func RedactQuery(q url.Values, keep ...string) string {
	if len(q) == 0 {
		return ""
	}
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		show := k == adapterkit.QuerySessionID || k == adapterkit.QueryLastMessageID || slices.Contains(keep, k)
		for _, v := range q[k] {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(url.QueryEscape(k))
			b.WriteByte('=')
			if show {
				b.WriteString(url.QueryEscape(v))
			} else {
				b.WriteString(Redacted)
			}
		}
	}
	return b.String()
}

// RedactURL returns u as a string with its query redacted by RedactQuery (keep as there), its
// user-info password replaced by "REDACTED" and its fragment removed. A query that does not
// parse is replaced whole by "REDACTED". u is not modified.
func RedactURL(u *url.URL, keep ...string) string {
	if u == nil {
		return ""
	}
	c := *u
	c.Fragment, c.RawFragment = "", ""
	if c.User != nil {
		if _, has := c.User.Password(); has {
			c.User = url.UserPassword(c.User.Username(), Redacted)
		}
	}
	if c.RawQuery != "" {
		q, err := url.ParseQuery(c.RawQuery)
		if err != nil {
			c.RawQuery = Redacted
		} else {
			c.RawQuery = RedactQuery(q, keep...)
		}
	}
	c.ForceQuery = false
	return c.String()
}
