// Package onnx runs transformer embedding models (BERT-family
// sentence-transformers exports) on ONNX Runtime.
//
// ONNX Runtime is a C library: this package needs cgo
// (github.com/yalue/onnxruntime_go) and the shared library
// (scripts/install-onnxruntime.sh; FindRuntime says where it looks). Without
// cgo the package still builds, and Load returns ErrNoRuntime saying why
// (nocgo.go), so a program that only offers ONNX as an option builds
// everywhere.
//
// Invariants: a Model is safe for concurrent use and returns finite vectors
// of its probed dimension; its identity hashes the network, the tokenizer
// and the pooling configuration. ONNX Runtime can be loaded once per
// process, so the library path is process-global state (runtime_cgo.go):
// loading a second, different library is ErrRuntimeConflict.
//
// The model directory is read the sentence-transformers way (vecbolt.json,
// else modules.json and the pooling module's config); options override it.
package onnx
