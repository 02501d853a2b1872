#!/usr/bin/env bash
# Installs what the test suite needs on a machine that has only Go:
# a C compiler (cgo: the race detector and ONNX Runtime bindings), npm
# (fetches ONNX Runtime, which ships only as an npm package), staticcheck,
# and the ONNX Runtime library itself. Idempotent; sourced by scripts/test.sh.
set -euo pipefail

VECBOLT_CACHE="${VECBOLT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vecbolt}"
export VECBOLT_CACHE
TOOLS_BIN="$VECBOLT_CACHE/bin"
mkdir -p "$TOOLS_BIN"
export PATH="$TOOLS_BIN:$PATH"

STATICCHECK_VERSION=v0.8.2

source "$(dirname "${BASH_SOURCE[0]}")/apt.sh"

if ! command -v gcc >/dev/null; then
	echo "ensure-tools: installing gcc (cgo)" >&2
	apt_install gcc libc6-dev
fi
if ! command -v npm >/dev/null; then
	echo "ensure-tools: installing npm (ONNX Runtime comes from the npm registry)" >&2
	apt_install npm ca-certificates
fi
# embedder/bert's tests generate their models (the same random weights as
# safetensors and as ONNX) with tools/gentinybert/gentinybert.py, which needs
# onnx and numpy in the system interpreter.
if ! /usr/bin/python3 -c 'import onnx, numpy' 2>/dev/null; then
	echo "ensure-tools: installing python3-onnx (embedder/bert test models)" >&2
	apt_install python3-onnx python3-numpy
fi
# Installed, so those tests must run, not skip.
export VECBOLT_REQUIRE_GENTINYBERT=1
if ! [ -x "$TOOLS_BIN/staticcheck" ] || ! "$TOOLS_BIN/staticcheck" -version | grep -q "(${STATICCHECK_VERSION#v})"; then
	echo "ensure-tools: installing staticcheck $STATICCHECK_VERSION" >&2
	GOBIN="$TOOLS_BIN" GOFLAGS= go install "honnef.co/go/tools/cmd/staticcheck@$STATICCHECK_VERSION"
fi
if [ -x scripts/install-onnxruntime.sh ] || [ -f scripts/install-onnxruntime.sh ]; then
	ONNXRUNTIME_LIB="$(bash scripts/install-onnxruntime.sh | tail -n 1)"
	export ONNXRUNTIME_LIB
	# The runtime is installed, so ONNX tests must run, not skip.
	export VECBOLT_REQUIRE_ONNXRUNTIME=1
fi
