// Package demo ships the corpus of `vecbolt demo`: 364 real English
// descriptions of Debian packages from 14 sections, one JSON object per line
// in the format `vecbolt import` reads. It is a package of its own because
// an embed directive cannot reach files outside its package's directory,
// and cmd/vecbolt must not depend on a checkout's layout at run time. See
// README.md for the source, the license and how build.go selects it.
package demo

import _ "embed"

// Corpus is the demo corpus in JSONL: {"id", "text", "metadata"} per line,
// with metadata section (string), words (int), installed_kb (int) and
// tags (list of Debian debtags).
//
//go:embed corpus.jsonl
var Corpus string
