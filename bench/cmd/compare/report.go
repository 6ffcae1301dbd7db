package main

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
)

// medians groups records by implementation and cell and returns the median of each field.
func medians(recs []Record) (map[string]map[string]Record, int) {
	type key struct{ impl, cell string }
	groups := map[key][]Record{}
	rounds := 0
	for _, r := range recs {
		groups[key{r.Impl, r.Cell}] = append(groups[key{r.Impl, r.Cell}], r)
		rounds = max(rounds, r.Round)
	}
	out := map[string]map[string]Record{}
	for k, rs := range groups {
		field := func(f func(Record) float64) float64 {
			v := make([]float64, len(rs))
			for i, r := range rs {
				v[i] = f(r)
			}
			return median(v)
		}
		m := Record{Impl: k.impl, Cell: k.cell,
			PerSec:       field(func(r Record) float64 { return r.PerSec }),
			CPUusPerRT:   field(func(r Record) float64 { return r.CPUusPerRT }),
			RedisPerMsg:  field(func(r Record) float64 { return r.RedisPerMsg }),
			RedisCPUus:   field(func(r Record) float64 { return r.RedisCPUus }),
			ReplayMS:     field(func(r Record) float64 { return r.ReplayMS }),
			RedisPerConn: field(func(r Record) float64 { return r.RedisPerConn }),
		}
		if out[k.impl] == nil {
			out[k.impl] = map[string]Record{}
		}
		out[k.impl][k.cell] = m
	}
	return out, rounds
}

// target is one of issue 14's targets, checked against the medians.
type target struct {
	what     string
	measured string
	goal     string
	met      bool
}

func targets(med map[string]map[string]Record, conns []int) []target {
	var ts []target
	get := func(impl, cell string) (Record, bool) {
		r, ok := med[impl][cell]
		return r, ok
	}
	ratio := func(what, a, b, cell string, f func(Record) float64, goal float64, atLeast bool, goalText string) {
		ra, ok1 := get(a, cell)
		rb, ok2 := get(b, cell)
		if !ok1 || !ok2 || f(rb) == 0 {
			return
		}
		v := f(ra) / f(rb)
		met := v >= goal
		if !atLeast {
			met = v <= goal
		}
		ts = append(ts, target{what, fmt.Sprintf("%.2f×", v), goalText, met})
	}
	rt := func(r Record) float64 { return r.PerSec }
	cpu := func(r Record) float64 { return r.CPUusPerRT }
	for _, n := range conns {
		cell := "rt" + strconv.Itoa(n)
		ns := strconv.Itoa(n)
		ratio("memory store, "+ns+" conns: round trips/s vs melody session server", "chatwire-memory", "melody-session", cell, rt, 1.15, true, "≥ 1.15×")
		ratio("memory store, "+ns+" conns: CPU per round trip vs melody session server", "chatwire-memory", "melody-session", cell, cpu, 1.0, false, "≤ 1.00×")
	}
	for _, n := range conns {
		cell := "rt" + strconv.Itoa(n)
		ns := strconv.Itoa(n)
		ratio("Redis, "+ns+" conns: round trips/s vs centrifuge Redis broker", "chatwire-redis", "centrifuge-redis", cell, rt, 1.2, true, "≥ 1.20×")
		if r, ok := get("chatwire-redis", cell); ok {
			ts = append(ts, target{"Redis, " + ns + " conns: Redis commands per stored message", fmt.Sprintf("%.2f", r.RedisPerMsg), "≤ 7", r.RedisPerMsg <= 7})
		}
		ratio("Redis, "+ns+" conns: Redis CPU per message vs centrifuge", "chatwire-redis", "centrifuge-redis", cell, func(r Record) float64 { return r.RedisCPUus }, 1.0, false, "≤ 1.00×")
	}
	replay := func(r Record) float64 { return r.ReplayMS }
	ratio("replay of 100, memory: time to the last message vs centrifuge", "chatwire-memory", "centrifuge-memory", "replay", replay, 0.8, false, "≤ 0.80×")
	ratio("replay of 100, Redis: time to the last message vs centrifuge", "chatwire-redis", "centrifuge-redis", "replay", replay, 0.8, false, "≤ 0.80×")
	for _, n := range conns {
		cell := "rt" + strconv.Itoa(n)
		ns := strconv.Itoa(n)
		ratio("stateless, "+ns+" conns: round trips/s vs melody", "chatwire-stateless", "melody-stateless", cell, rt, 1.0, true, "≥ 1.00×")
	}
	return ts
}

// renderBaseline returns a table of chatwire's rows before (base) and now (recs).
func renderBaseline(recs, base []Record, label string, conns []int) string {
	now, _ := medians(recs)
	old, _ := medians(base)
	var b strings.Builder
	fmt.Fprintf(&b, "chatwire before (%s) and now, medians of each run's rounds (the before run was another run, maybe\nunder other load: compare the ratios to the peers, which move with the load, more than these):\n\n", label)
	b.WriteString("| server | cell | rt/s before | rt/s now | CPU µs/rt before | CPU µs/rt now | replay ms before | replay ms now |\n|---|---|---:|---:|---:|---:|---:|---:|\n")
	for _, impl := range allImpls {
		if !strings.HasPrefix(impl, "chatwire") || now[impl] == nil || old[impl] == nil {
			continue
		}
		for _, n := range conns {
			cell := "rt" + strconv.Itoa(n)
			o, ok1 := old[impl][cell]
			c, ok2 := now[impl][cell]
			if ok1 && ok2 {
				fmt.Fprintf(&b, "| %s | %d conns | %.0f | %.0f | %.1f | %.1f | | |\n", impl, n, o.PerSec, c.PerSec, o.CPUusPerRT, c.CPUusPerRT)
			}
		}
		o, ok1 := old[impl]["replay"]
		c, ok2 := now[impl]["replay"]
		if ok1 && ok2 {
			fmt.Fprintf(&b, "| %s | replay of 100 | | | | | %.2f | %.2f |\n", impl, o.ReplayMS, c.ReplayMS)
		}
	}
	return b.String()
}

// render returns the markdown of the results.
func render(recs []Record, command string, conns []int) string {
	med, rounds := medians(recs)
	var impls []string
	for _, impl := range allImpls {
		if med[impl] != nil {
			impls = append(impls, impl)
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Command: `%s` (from `bench/`). Medians of %d interleaved rounds; every server in its own\n", command, rounds)
	b.WriteString("process, one external load generator, which shares the machine's 2 cores with the server: read the\n")
	b.WriteString("ratios more than the absolute numbers.\n\n")
	b.WriteString("| server |")
	for _, n := range conns {
		fmt.Fprintf(&b, " %d conns rt/s | CPU µs/rt |", n)
	}
	b.WriteString(" Redis cmds/msg | Redis CPU µs/msg |\n|---|")
	for range conns {
		b.WriteString("---:|---:|")
	}
	b.WriteString("---:|---:|\n")
	for _, impl := range impls {
		fmt.Fprintf(&b, "| %s |", impl)
		var redisCmd, redisCPU []string
		for _, n := range conns {
			r, ok := med[impl]["rt"+strconv.Itoa(n)]
			if !ok {
				b.WriteString(" – | – |")
				continue
			}
			fmt.Fprintf(&b, " %.0f | %.1f |", r.PerSec, r.CPUusPerRT)
			if usesRedis(impl) {
				redisCmd = append(redisCmd, fmt.Sprintf("%.2f", r.RedisPerMsg))
				redisCPU = append(redisCPU, fmt.Sprintf("%.1f", r.RedisCPUus))
			}
		}
		if len(redisCmd) == 0 {
			b.WriteString(" – | – |\n")
		} else {
			fmt.Fprintf(&b, " %s | %s |\n", strings.Join(redisCmd, " / "), strings.Join(redisCPU, " / "))
		}
	}
	b.WriteString("\nRedis columns: at ")
	for i, n := range conns {
		if i > 0 {
			b.WriteString(" / ")
		}
		b.WriteString(strconv.Itoa(n))
	}
	b.WriteString(" connections; a stored message is the user's message or its reply (two per round trip).\n\n")

	b.WriteString("| replay of 100 messages | ms to the last replayed message | Redis cmds per reconnect |\n|---|---:|---:|\n")
	for _, impl := range impls {
		r, ok := med[impl]["replay"]
		if !ok {
			continue
		}
		redisCmd := "–"
		if usesRedis(impl) {
			redisCmd = fmt.Sprintf("%.1f", r.RedisPerConn)
		}
		fmt.Fprintf(&b, "| %s | %.2f | %s |\n", impl, r.ReplayMS, redisCmd)
	}
	b.WriteString("\nReplay: from the start of the dial (TCP, upgrade; centrifuge also its connect and subscribe commands)\n")
	b.WriteString("to the last of the 100 retained messages, median of the reconnects of each round.\n\n")

	ts := targets(med, conns)
	if len(ts) > 0 {
		b.WriteString("| issue 14 target | measured | target | |\n|---|---:|---:|---|\n")
		for _, t := range ts {
			mark := "met"
			if !t.met {
				mark = "**missed**"
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", t.what, t.measured, t.goal, mark)
		}
	}
	return b.String()
}

const (
	beginMarker = "<!-- compare-results:begin -->"
	endMarker   = "<!-- compare-results:end -->"
)

// updateReadme replaces the text between the markers in path with body.
func updateReadme(path, body string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	s := string(b)
	i := strings.Index(s, beginMarker)
	j := strings.Index(s, endMarker)
	if i < 0 || j < i {
		return fmt.Errorf("%s has no %s … %s section", path, beginMarker, endMarker)
	}
	s = s[:i+len(beginMarker)] + "\n" + body + s[j:]
	return os.WriteFile(path, []byte(s), 0o644)
}

// sortedCells is for tests and logs: the cells of one implementation in order.
func sortedCells(m map[string]Record) []string {
	cells := make([]string, 0, len(m))
	for c := range m {
		cells = append(cells, c)
	}
	sort.Strings(cells)
	return cells
}
