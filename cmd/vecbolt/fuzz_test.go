package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// FuzzArgs runs whole command lines: whatever the arguments, run returns an
// exit status in {0, 1, 2} without panicking, and a failure says why on
// stderr. Arguments are separated by NUL bytes in the fuzz input; the
// working directory is a fresh temporary one and arguments may not name
// other directories, so fuzzed paths cannot touch anything outside it.
func FuzzArgs(f *testing.F) {
	for _, s := range []string{
		"add\x00--db\x00x.db\x00--collection\x00c\x00--meta\x00a:=1\x00hello world",
		"add\x00--db\x00x.db\x00--collection\x00c\x00--dim\x002\x00--vector\x00[1,2]\x00t",
		"search\x00--db\x00x.db\x00--collection\x00c\x00--where\x00a >= 1\x00--json\x00hello",
		"search\x00--db=x.db\x00--collection=c\x00--k=-1\x00q",
		"import\x00--db\x00x.db\x00--collection\x00c\x00--skip-bad\x00-",
		"get\x00--db\x00x.db\x00--collection\x00c\x00--json\x00a\x00b",
		"delete\x00--db\x00x.db\x00--collection\x00c\x00a",
		"delete\x00--db\x00x.db\x00--collection\x00c\x00--where\x00n > 1",
		"export\x00--db\x00x.db\x00--collection\x00c\x00--vectors\x00--where\x00a = 1",
		"count\x00--db\x00x.db\x00--collection\x00c\x00--where\x00a IN (1, 2)",
		"list\x00--db\x00x.db\x00--collection\x00c\x00--after\x00a\x00--limit\x002\x00--json",
		"stats\x00--db\x00x.db\x00--json",
		"collections\x00--db\x00x.db",
		"check\x00--db\x00x.db",
		"backup\x00--db\x00x.db\x00out.db",
		"reembed\x00--db\x00x.db\x00--collection\x00c",
		"tokenize\x00--json\x00hello",
		"similar\x00--db\x00x.db\x00--collection\x00c\x00--where\x00a = 1\x00--k\x003\x00a",
		"recommend\x00--db\x00x.db\x00--collection\x00c\x00--positive\x00a,b\x00--negative\x00c\x00--strategy\x00best",
		"classify\x00--db\x00x.db\x00--collection\x00c\x00--field\x00a\x00--json\x00hello",
		"similarity\x00--json\x00a\x00b",
		"embed\x00--query\x00hello",
		"help\x00search",
		"search\x00-h",
		"add\x00--\x00--db",
		"--lock-timeout\x00",
		"",
	} {
		f.Add(s, `{"text":"hello"}`+"\n"+`{"bad"`)
	}
	f.Fuzz(func(t *testing.T, argv, stdin string) {
		args := strings.Split(argv, "\x00")
		if argv == "" {
			args = nil
		}
		if len(args) > 32 {
			return
		}
		for _, a := range args {
			// Paths must stay inside the temporary directory; the demo is
			// too slow for fuzzing; a registered model name would be
			// downloaded.
			if strings.ContainsAny(a, "/\\") || strings.Contains(a, "..") || a == "demo" || strings.Contains(a, "model") {
				return
			}
		}
		t.Chdir(t.TempDir())
		var so, se bytes.Buffer
		code := run(context.Background(), args, strings.NewReader(stdin), &so, &se, withEmbedder(testModel()), withTerminal(false))
		switch code {
		case exitOK:
		case exitRuntime, exitUsage:
			if !strings.HasPrefix(se.String(), "vecbolt: ") {
				t.Fatalf("exit %d with stderr %q", code, se.String())
			}
		default:
			t.Fatalf("exit status %d", code)
		}
	})
}
