// Package pb holds the protobuf messages vecbolt stores in its database file.
// The Go code is generated from records.proto; regenerate with go generate
// (needs protoc from Debian's protobuf-compiler and protoc-gen-go from
// google.golang.org/protobuf).
package pb

//go:generate protoc --go_out=. --go_opt=paths=source_relative records.proto recall.proto
