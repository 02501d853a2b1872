#!/usr/bin/env bash
# Installs the C++ peers that bench/ compiles its drivers against
# (bench/cppdriver.go): hnswlib's headers, FAISS's static library and
# OpenBLAS for FAISS's BLAS calls. Without OpenBLAS the FAISS drivers link
# Debian's reference BLAS, which is single-threaded and unblocked: IVFPQ
# training at 1M took more than 21 minutes with it and 133 s with OpenBLAS
# (BENCHMARKS.md, "FAISS in the ANN table"). Without these packages the
# bench leaves the peers out and says so. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/apt.sh

missing=()
for p in g++ libhnswlib-dev libfaiss-dev libopenblas-pthread-dev; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing+=("$p")
	fi
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "install-bench-peers: installing ${missing[*]}" >&2
	apt_install "${missing[@]}"
fi
