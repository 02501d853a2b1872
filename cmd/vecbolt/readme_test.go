package main

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// flagName matches a flag named in prose or a synopsis.
var flagName = regexp.MustCompile(`(?:^|[\s\[(|])--([a-z][a-z0-9-]*)`)

// readmeCommands returns, for each command, the text README's "## Command
// line" code block gives it: every line starting "vecbolt CMD" and the
// comment lines right after it. A comment line starting "# every command
// with --db also takes" applies to each command that has --db.
func readmeCommands(t *testing.T, readme string) (perCmd map[string]string, withDB string) {
	t.Helper()
	_, sec, ok := strings.Cut(readme, "\n## Command line\n")
	if !ok {
		t.Fatal(`README.md has no "## Command line" section`)
	}
	if i := strings.Index(sec, "\n## "); i >= 0 {
		sec = sec[:i]
	}
	_, block, ok := strings.Cut(sec, "```sh\n")
	if !ok {
		t.Fatal("README's Command line section has no ```sh block")
	}
	block, _, _ = strings.Cut(block, "```")
	perCmd = map[string]string{}
	cur := ""
	for line := range strings.SplitSeq(block, "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(trimmed, withDBPrefix):
			withDB += strings.TrimPrefix(trimmed, withDBPrefix) + "\n"
			cur = ""
		case strings.HasPrefix(trimmed, "vecbolt "):
			f := strings.Fields(trimmed)
			if len(f) < 2 {
				t.Fatalf("README line %q names no command", line)
			}
			cur = f[1]
			perCmd[cur] += trimmed + "\n"
		case strings.HasPrefix(trimmed, "#") && cur != "":
			perCmd[cur] += trimmed + "\n"
		default:
			cur = ""
		}
	}
	return perCmd, withDB
}

// withDBPrefix starts README's line of flags every command with --db takes.
const withDBPrefix = "# every command with --db also takes"

// mentionedFlags returns the flag names text mentions.
func mentionedFlags(text string) map[string]bool {
	m := map[string]bool{}
	for _, s := range flagName.FindAllStringSubmatch(text, -1) {
		m[s[1]] = true
	}
	return m
}

// TestReadmeListsEveryFlag checks that README's command-line block shows
// every command with every flag it parses, and no flag it does not.
func TestReadmeListsEveryFlag(t *testing.T) {
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	perCmd, withDB := readmeCommands(t, string(raw))
	shared := mentionedFlags(withDB)
	for _, c := range commands() {
		t.Run(c.name, func(t *testing.T) {
			text, ok := perCmd[c.name]
			if !ok {
				t.Fatalf("README's command-line block has no line for %s", c.name)
			}
			named := mentionedFlags(text)
			reg := registeredFlags(c)
			for _, n := range reg {
				if !named[n] && !(shared[n] && slices.Contains(reg, "db")) {
					t.Errorf("README's lines for %s do not mention --%s", c.name, n)
				}
			}
			for n := range named {
				if !slices.Contains(reg, n) {
					t.Errorf("README's lines for %s mention --%s, which %s does not parse", c.name, n, c.name)
				}
			}
		})
	}
	for n := range shared {
		for _, c := range commands() {
			if reg := registeredFlags(c); slices.Contains(reg, "db") && !slices.Contains(reg, n) {
				t.Errorf("README says every command with --db takes --%s; %s does not", n, c.name)
			}
		}
	}
}

// TestReadmeCommandsParse checks readmeCommands itself on a small block,
// so that a parsing slip cannot make TestReadmeListsEveryFlag pass vacuously.
func TestReadmeCommandsParse(t *testing.T) {
	readme := "intro\n## Command line\n\ntext --not-a-flag\n\n```sh\n" +
		"vecbolt add --db F [--int8] TEXT   # --upsert too\n" +
		"#   also [--dim N]\n" +
		"vecbolt get --db F ID\n" +
		"# every command with --db also takes [--lock-timeout D]\n" +
		"# not get's: --json\n" +
		"```\n## Next\n```sh\nvecbolt get --vector\n```\n"
	perCmd, withDB := readmeCommands(t, readme)
	tests := []struct {
		name string
		text string
		want []string
	}{
		{"add", perCmd["add"], []string{"db", "dim", "int8", "upsert"}},
		{"get", perCmd["get"], []string{"db"}},
		{"shared", withDB, []string{"lock-timeout"}},
		{"absent", perCmd["search"], nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for n := range mentionedFlags(tc.text) {
				got = append(got, n)
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Errorf("flags %v, want %v (from %q)", got, tc.want, tc.text)
			}
		})
	}
}
