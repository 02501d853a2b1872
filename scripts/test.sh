#!/usr/bin/env bash
# The whole test suite: the README's test command and what CI runs.
# Installs its own tools (scripts/ensure-tools.sh). Environment:
#   FUZZTIME   how long each fuzz target runs (default 10s; 0 skips fuzzing)
#   QUICK=1    skip the race and fuzz stages (for a fast local loop)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ensure-tools.sh

FUZZTIME="${FUZZTIME:-10s}"
export CGO_ENABLED=1
step() { printf '\n== %s\n' "$*"; }

step "gofmt"
bad="$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))"
if [ -n "$bad" ]; then echo "not gofmt-clean:"; echo "$bad"; exit 1; fi

step "go vet"
go vet ./...

step "staticcheck"
staticcheck ./...

step "pure-Go build (no cgo): the demo must build where there is no C compiler"
CGO_ENABLED=0 go build -o /dev/null ./cmd/vecbolt
step "other architectures compile"
GOARCH=arm64 CGO_ENABLED=0 go vet ./index/ ./db/ ./query/ ./storage/...
GOARCH=386 CGO_ENABLED=0 go build ./index/
step "32-bit and pure-Go runs of the index and storage tests (int overflow, no assembly)"
GOARCH=386 CGO_ENABLED=0 go test -short ./index/ ./storage/ ./db/
go test -short -tags purego ./index/ ./embedder/bert/
step "db without the built-in model (-tags vecbolt_nomodel)"
go test -short -tags vecbolt_nomodel ./db/

step "go test"
go test -timeout 30m ./...

if [ "${QUICK:-0}" != 1 ]; then
	step "race detector: db, index, query, storage, embedder"
	go test -race -short -timeout 30m ./db/ ./index/ ./query/ ./storage/... ./embedder/...

	# go test -fuzz sometimes stops with "context deadline exceeded" and no
	# failing input when its workers stall on a busy machine; that is the
	# fuzzing engine, not the code under test, so such a run is retried
	# (twice: storage's FuzzVectorSlab stalled on two attempts in a row in
	# a clean-clone run of session 11). A run that writes a failing input
	# fails at once.
	# -fuzzminimizetime 2s: Go minimizes each new interesting input for up
	# to 60 s by default, which on a 10 s run leaves no time to explore
	# (storage's FuzzWalkPages made 17 execs in 60 s; 100 with 1 s).
	fuzz_one() {
		local log
		log="$(mktemp)"
		for attempt in 1 2 3; do
			if go test -run '^$' -fuzz "^${2}\$" -fuzztime "$FUZZTIME" -fuzzminimizetime 2s "$1" >"$log" 2>&1; then
				rm -f "$log"
				return 0
			fi
			if grep -q "Failing input written" "$log" || ! grep -q "context deadline exceeded" "$log"; then
				break
			fi
			echo "   (fuzzing engine stalled; retrying)"
		done
		cat "$log"
		rm -f "$log"
		exit 1
	}
	if [ "$FUZZTIME" != 0 ]; then
		step "fuzz targets, $FUZZTIME each"
		for pkg in $(go list ./...); do
			dir="$(go list -f '{{.Dir}}' "$pkg")"
			for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do
				echo "-- $pkg $target"
				fuzz_one "$pkg" "$target"
			done
		done
	fi
fi

if [ -f bench/main.go ]; then
	step "bench --quick (quality and recall floors; no timing asserted)"
	go run ./bench --quick
fi
echo
echo "all tests passed"
