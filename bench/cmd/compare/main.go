// Command compare runs chatwire side by side with servers doing the same work on other
// libraries (issue 14's comparison) and writes the ratio table into bench/README.md:
//
//   - stateless: chatwire, melody and a bare gorilla/websocket loop answer each message;
//   - session mode on one process: chatwire with its MemoryStore, a hand-written melody
//     session server (history of 100 per session, the message echoed to the session, the
//     reply stored and sent) and centrifuge with its memory broker (history 100, recovery
//     on);
//   - session mode on Redis: chatwire with redisstore and centrifuge with its Redis broker.
//
// Every server runs in its own process (this binary, started again with
// COMPARE_SERVE_IMPL set); this process is the one load generator. Each round starts every
// implementation once, in a rotated order, and measures sequential round trips of a
// 100-byte message on -conns connections (one session each): round trips per second and
// the server process's CPU per round trip (from /proc), and for Redis the commands and the
// Redis CPU per stored message (from INFO); for session servers, then, the time from
// dialing to the last of 100 replayed messages. The report shows the medians of the rounds
// and the ratios of issue 14's targets.
//
// Usage, from bench/:
//
//	go run ./cmd/compare -rounds 3 -readme README.md
//
// It starts its own redis-server (no persistence, a free loopback port) unless -redis
// names one. bench/compare/run.sh is the same with the defaults the README's table uses.
package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

func main() {
	if impl := os.Getenv("COMPARE_SERVE_IMPL"); impl != "" {
		if err := serve(impl, os.Getenv("COMPARE_SERVE_REDIS")); err != nil {
			fmt.Fprintln(os.Stderr, "compare server:", err)
			os.Exit(1)
		}
		return
	}
	rounds := flag.Int("rounds", 3, "interleaved rounds")
	connsFlag := flag.String("conns", "50,500", "connection counts, comma-separated")
	warmup := flag.Duration("warmup", time.Second, "round trips before each measured window")
	window := flag.Duration("window", 4*time.Second, "measured window per cell")
	reconnects := flag.Int("reconnects", 20, "replay reconnects per round (0: no replay)")
	implsFlag := flag.String("impls", strings.Join(allImpls, ","), "implementations to run")
	redisAddr := flag.String("redis", "", "Redis host:port for the Redis servers (default: start redis-server)")
	out := flag.String("out", "results/compare.jsonl", "file for the raw records")
	readme := flag.String("readme", "", "README to update between the compare-results markers")
	input := flag.String("input", "", "render records from this file instead of running")
	baseline := flag.String("baseline", "", "records of an earlier run (e.g. results/compare-before.jsonl) to show chatwire's rows before and now")
	baselineLabel := flag.String("baseline-label", "baseline", "what -baseline is, for the report")
	profileDir := flag.String("profile", "", "directory for CPU profiles of the servers, one per round-trip window")
	flag.Parse()

	conns, err := parseConns(*connsFlag)
	if err != nil {
		fatal(err)
	}
	var recs []Record
	if *input != "" {
		if recs, err = readRecords(*input); err != nil {
			fatal(err)
		}
	} else {
		exe, err := os.Executable()
		if err != nil {
			fatal(err)
		}
		recs, err = run(config{
			Exe: exe, Impls: strings.Split(*implsFlag, ","), Rounds: *rounds, Conns: conns,
			Warmup: *warmup, Window: *window, Reconnects: *reconnects, RedisAddr: *redisAddr, ProfileDir: *profileDir, Log: os.Stderr,
		})
		if werr := writeRecords(*out, recs); werr != nil && err == nil {
			err = werr
		}
		if err != nil {
			fatal(err)
		}
	}
	args := make([]string, len(os.Args)-1)
	for i, a := range os.Args[1:] {
		args[i] = a
		if strings.ContainsAny(a, " \t'\"") {
			args[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'" // as a shell reads it
		}
	}
	command := "go run ./cmd/compare " + strings.Join(args, " ")
	body := render(recs, strings.TrimSpace(command), conns)
	if *baseline != "" {
		base, err := readRecords(*baseline)
		if err != nil {
			fatal(err)
		}
		body += "\n" + renderBaseline(recs, base, *baselineLabel, conns)
	}
	fmt.Println(body)
	if *readme != "" {
		if err := updateReadme(*readme, body); err != nil {
			fatal(err)
		}
	}
}

func parseConns(s string) ([]int, error) {
	var out []int
	for f := range strings.SplitSeq(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("bad -conns %q", s)
		}
		out = append(out, n)
	}
	return out, nil
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "compare:", err)
	os.Exit(1)
}
