#!/usr/bin/env bash
# The long reliability modes (not run by CI; about 45 minutes on 2 cores):
#   - 200 kill -9 crashes of a writer process (db.TestKill9Durability)
#   - 2,000 randomly damaged copies of a database file (db.TestCorruption…)
#   - every page pointer of a test file damaged 10 ways, for vecbolt check
#     (cmd/vecbolt.TestCheckDamagedPointers, 1,029 copies)
#   - every documents-tree branch element pointed at each of its ancestors
#     (cmd/vecbolt.TestDamagedTreesNeverKill, 810 cases)
#   - 40 rounds of Reembed racing writes (db.TestReembedUnloadedRace)
#   - peak memory of the worst accepted inputs, reported (TestPeakMemory)
#   - every fuzz target for FUZZTIME (default 2m) each
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ensure-tools.sh
VECBOLT_CRASH_ITERATIONS="${VECBOLT_CRASH_ITERATIONS:-200}" \
	go test -count=1 -timeout 2h -run '^TestKill9Durability$' -v ./db/ | grep -E 'iteration|^(ok|FAIL|---)'
VECBOLT_CORRUPT_ITERATIONS="${VECBOLT_CORRUPT_ITERATIONS:-2000}" \
	go test -count=1 -timeout 1h -run '^TestCorruptionNeverPanicsOrLies$' -v ./db/ | grep -E 'damaged|^(ok|FAIL|---)'
VECBOLT_CHECK_DAMAGE_ALL=1 VECBOLT_PAGELOOP_ALL=1 \
	go test -count=1 -timeout 1h -run '^(TestCheckDamagedPointers|TestDamagedTreesNeverKill)$' ./cmd/vecbolt/
VECBOLT_REEMBED_RACE_ROUNDS=40 \
	go test -count=1 -timeout 1h -run '^TestReembedUnloadedRace$' ./db/
VECBOLT_MEMORY=1 \
	go test -count=1 -timeout 1h -run '^TestPeakMemory$' -v ./cmd/vecbolt/ | grep -E 'MB|^(ok|FAIL|---)'
FUZZTIME="${FUZZTIME:-2m}"
for pkg in $(go list ./...); do
	dir="$(go list -f '{{.Dir}}' "$pkg")"
	for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do
		echo "-- $pkg $target ($FUZZTIME)"
		go test -run '^$' -fuzz "^${target}\$" -fuzztime "$FUZZTIME" "$pkg"
	done
done
