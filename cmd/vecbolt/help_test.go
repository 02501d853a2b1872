package main

import (
	"bytes"
	"context"
	"flag"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// registeredFlags returns the names of the flags cmd parses, by running its
// registration on a fresh flag set (what run parses with).
func registeredFlags(c *command) []string {
	fs := c.flagSet()
	c.flags(fs)
	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	return names
}

// flagHeading matches a line of a Flags: listing: two spaces, then one or
// more flag names ("--metric, --index, --dim" groups several).
var flagHeading = regexp.MustCompile(`(?m)^  (--[a-z0-9-]+(?:, --[a-z0-9-]+)*)`)

// TestHelpListsEveryFlag runs `vecbolt help CMD` for every command and checks
// that its Flags: section names each flag the command parses exactly once
// and no flag it does not parse. Help used to be written by hand beside the
// registrations, and add and import had lost --int8.
func TestHelpListsEveryFlag(t *testing.T) {
	for _, c := range commands() {
		t.Run(c.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(context.Background(), []string{"help", c.name}, strings.NewReader(""), &stdout, &stderr); code != exitOK {
				t.Fatalf("help %s: exit %d, stderr %q", c.name, code, stderr.String())
			}
			_, section, ok := strings.Cut(stdout.String(), "\nFlags:\n")
			if !ok {
				t.Fatalf("help %s has no Flags: section:\n%s", c.name, stdout.String())
			}
			listed := map[string]int{}
			for _, m := range flagHeading.FindAllStringSubmatch(section, -1) {
				for _, n := range strings.Split(m[1], ", ") {
					listed[strings.TrimPrefix(n, "--")]++
				}
			}
			reg := registeredFlags(c)
			for _, n := range reg {
				if listed[n] != 1 {
					t.Errorf("help %s lists --%s %d times, want once", c.name, n, listed[n])
				}
			}
			for n := range listed {
				if !slices.Contains(reg, n) {
					t.Errorf("help %s lists --%s, which %s does not parse", c.name, n, c.name)
				}
			}
		})
	}
}

// TestHelpFlagFormat pins how a flag line is rendered from its
// registration: two dashes, the backquoted placeholder, the usage aligned
// in one column, and a non-zero default unless the usage states one.
func TestHelpFlagFormat(t *testing.T) {
	tests := []struct {
		cmd, line string
	}{
		{"import", "  --batch N            N documents per transaction (default 256)\n"},
		{"add", "  --collection NAME    collection NAME\n"},
		{"add", "  --int8               keep a new HNSW collection's vectors in memory as int8 codes (about 4x less\n                       vector memory; exact scores by re-ranking)\n"},
		{"import", "  --int8 "},
		{"add", "  --upsert             replace a document with the same ID instead of failing\n"},
		{"search", "  --min-score S        drop results scoring below S (default: none)\n"},
		{"list", "  --limit N            list at most N documents (default 0: all)\n"},
		{"get", "  --lock-timeout D     wait up to D for another process to release the file (default 2s)\n"},
		{"add", "  --metric METRIC      METRIC of a new collection: cosine, dot or l2 (default cosine)\n"},
		{"reembed", "  --model MODEL        the new embedding model MODEL: a model directory, a word-vector file, a\n"},
		{"demo", "  --db FILE            keep the database in FILE\n"},
	}
	for _, tc := range tests {
		t.Run(tc.cmd+strings.Fields(tc.line)[0], func(t *testing.T) {
			help := findCommand(tc.cmd).helpText()
			if !strings.Contains(help, tc.line) {
				t.Errorf("help %s lacks %q:\n%s", tc.cmd, tc.line, help)
			}
		})
	}
}

// TestHelpFlagsOrder checks the listing's order: --db and --collection
// first, --model and --lock-timeout last, the rest by name.
func TestHelpFlagsOrder(t *testing.T) {
	help := findCommand("search").helpText()
	_, section, _ := strings.Cut(help, "\nFlags:\n")
	var got []string
	for _, m := range flagHeading.FindAllStringSubmatch(section, -1) {
		got = append(got, m[1])
	}
	want := []string{"--db", "--collection", "--alpha", "--ef", "--explain", "--group", "--json", "--k", "--min-score", "--mode", "--passages", "--vector", "--where", "--model", "--lock-timeout"}
	if !slices.Equal(got, want) {
		t.Errorf("search flags in order %v, want %v", got, want)
	}
}
