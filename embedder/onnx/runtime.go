package onnx

import "errors"

// ORTVersion is the ONNX Runtime release that scripts/install-onnxruntime.sh
// installs and that the cache lookup expects.
const ORTVersion = "1.30.0"

// EnvORTLib names the environment variable that points at the ONNX Runtime
// shared library, overriding the cache and the system search.
const EnvORTLib = "ONNXRUNTIME_LIB"

// ErrNoRuntime is returned when the ONNX Runtime shared library cannot be
// found or loaded. Its message says how to install it.
var ErrNoRuntime = errors.New("embedder: ONNX Runtime library not found")

// ErrRuntimeConflict is returned when a library path is requested that
// differs from the one already loaded in this process: ONNX Runtime can be
// loaded only once per process.
var ErrRuntimeConflict = errors.New("embedder: ONNX Runtime already loaded from a different library")
