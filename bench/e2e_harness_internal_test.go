package bench

import (
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	var s []time.Duration
	for i := 1; i <= 200; i++ {
		s = append(s, time.Duration(i))
	}
	for _, c := range []struct {
		p    int
		want time.Duration
	}{{50, 100}, {99, 198}, {100, 200}, {1, 2}} {
		if got := percentile(s, c.p); got != c.want {
			t.Errorf("p%d of 1..200 = %d, want %d", c.p, got, c.want)
		}
	}
	if got := percentile([]time.Duration{7}, 99); got != 7 {
		t.Errorf("p99 of one value = %d, want 7", got)
	}
}

func TestParseIdleVariants(t *testing.T) {
	vs := parseIdleVariants(t, "wsfiber:none:256, wshttp-detached:memory")
	if len(vs) != 2 || vs[0] != (idleVariant{"wsfiber", "none", 256}) || vs[1] != (idleVariant{"wshttp-detached", "memory", 0}) {
		t.Errorf("got %+v", vs)
	}
	if got := vs[0].name(10000); got != "adapter=wsfiber/store=none/readbuf=256/conns=10000" {
		t.Errorf("name = %s", got)
	}
}
