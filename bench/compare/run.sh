#!/usr/bin/env bash
# Runs the side-by-side comparison (issue 14) with the settings of the README's table and
# rewrites that table: 3 interleaved rounds of every server, 50 and 500 connections, replay
# of 100 messages. Needs redis-server on PATH (apt-get install redis-server) unless
# -redis host:port is passed. Extra flags go to ./cmd/compare (see its doc comment).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p results
go build -o results/compare.bin ./cmd/compare
exec ./results/compare.bin -rounds 3 -conns 50,500 -warmup 1s -window 4s -reconnects 20 \
	-out results/compare.jsonl -readme README.md "$@"
