// Package safetensors reads and writes the safetensors format of Model2Vec
// and sentence-transformers static models: an 8-byte little-endian header
// length, a JSON header naming each tensor's dtype, shape and byte range,
// then the raw little-endian data.
//
// It is written here rather than taken from a library because the format is
// small, no pure-Go module validates it as strictly as a loader of untrusted
// files should, and static models need only a handful of dtypes.
//
// Invariants: Parse accepts a file only when its tensors exactly tile the
// data section (no gap, no overlap, no byte outside it) and every shape
// matches its byte count; every error wraps ErrInvalid; tensor data aliases
// the parsed buffer, so nothing is copied.
package safetensors
