//go:build ignore

// build.go regenerates corpus.jsonl, the demo corpus, from Debian's package
// lists (bookworm main: Packages for section, tags and source package;
// Translation-en for the English descriptions). See README.md.
//
// Usage:
//
//	apt-get update -o Dir::State::Lists=$HOME/.cache/vecbolt/corpus/lists -o Acquire::Languages=en
//	lz4 -dc ...Packages.lz4 > ...Packages   (likewise Translation-en)
//	go run testdata/demo/build.go -lists $HOME/.cache/vecbolt/corpus/lists -out testdata/demo/corpus.jsonl
//
// Selection is deterministic for given lists: per section, the packages of
// the training split (sha1(source) % 10 != 0; the evaluation split is
// reserved for the model's evaluation) whose binary is named like its source,
// whose description is 25..110 words and unique, ordered by sha1(name), the
// first perSection of them.
package main

import (
	"bufio"
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/vecbolt/vecbolt/internal/evalsets"
)

// sections are the categories of the demo, chosen to be far apart in
// meaning so that search by meaning is easy to see.
var sections = []string{
	"games", "sound", "graphics", "science", "math", "editors", "database",
	"web", "mail", "hamradio", "electronics", "video", "text", "net",
}

const perSection = 26

type pkg struct {
	name, source, section, short, long string
	tags                               []string
	installedKB                        int64
}

func main() {
	lists := flag.String("lists", filepath.Join(os.Getenv("HOME"), ".cache/vecbolt/corpus/lists"), "apt lists directory holding the uncompressed bookworm main Packages and Translation-en")
	out := flag.String("out", "testdata/demo/corpus.jsonl", "output file")
	flag.Parse()

	pkgs := readPackages(filepath.Join(*lists, "deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages"))
	readTranslations(filepath.Join(*lists, "deb.debian.org_debian_dists_bookworm_main_i18n_Translation-en"), pkgs)

	bySection := map[string][]*pkg{}
	seenText := map[string]bool{}
	names := make([]string, 0, len(pkgs))
	for n := range pkgs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		p := pkgs[n]
		words := len(strings.Fields(p.long))
		if p.long == "" || p.name != p.source || evalsets.EvalSplit(p.source) || words < 25 || words > 110 {
			continue
		}
		if seenText[p.long] {
			continue
		}
		seenText[p.long] = true
		bySection[p.section] = append(bySection[p.section], p)
	}
	var buf bytes.Buffer
	count := 0
	for _, s := range sections {
		ps := bySection[s]
		sort.Slice(ps, func(i, j int) bool { return hashName(ps[i].name) < hashName(ps[j].name) })
		if len(ps) > perSection {
			ps = ps[:perSection]
		}
		sort.Slice(ps, func(i, j int) bool { return ps[i].name < ps[j].name })
		for _, p := range ps {
			md := map[string]any{
				"section":      p.section,
				"words":        len(strings.Fields(p.long)),
				"installed_kb": p.installedKB,
			}
			if len(p.tags) > 0 {
				md["tags"] = p.tags
			}
			line, err := json.Marshal(map[string]any{
				"id":       p.name,
				"text":     p.short + ". " + strings.Join(strings.Fields(p.long), " "),
				"metadata": md,
			})
			if err != nil {
				log.Fatal(err)
			}
			buf.Write(line)
			buf.WriteByte('\n')
			count++
		}
	}
	if err := os.WriteFile(*out, buf.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
	fmt.Fprintf(os.Stderr, "wrote %d documents, %d bytes to %s\n", count, buf.Len(), *out)
}

func hashName(s string) string {
	sum := sha1.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// paragraphs splits an RFC 822 style file into stanzas of field → value
// (continuation lines joined with "\n").
func stanzas(path string, fn func(map[string]string)) {
	f, err := os.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	st := map[string]string{}
	last := ""
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if len(st) > 0 {
				fn(st)
			}
			st, last = map[string]string{}, ""
		case line[0] == ' ' || line[0] == '\t':
			if last != "" {
				st[last] += "\n" + line
			}
		default:
			k, v, ok := strings.Cut(line, ":")
			if ok {
				last = k
				st[k] = strings.TrimSpace(v)
			}
		}
	}
	if len(st) > 0 {
		fn(st)
	}
	if err := sc.Err(); err != nil {
		log.Fatal(err)
	}
}

func readPackages(path string) map[string]*pkg {
	out := map[string]*pkg{}
	stanzas(path, func(st map[string]string) {
		name := st["Package"]
		if name == "" || out[name] != nil {
			return
		}
		src := name
		if s := strings.Fields(st["Source"]); len(s) > 0 {
			src = s[0]
		}
		kb, _ := strconv.ParseInt(st["Installed-Size"], 10, 64)
		var tags []string
		for _, t := range strings.Split(strings.ReplaceAll(st["Tag"], "\n", " "), ",") {
			t = strings.TrimSpace(t)
			if strings.HasSuffix(t, "::TODO") {
				continue // debtags placeholder, not a tag
			}
			// Keep the facets a reader can filter on; implementation
			// details (implemented-in, uitoolkit, ...) only add bulk.
			for _, facet := range []string{"use::", "interface::", "field::", "game::", "works-with::"} {
				if strings.HasPrefix(t, facet) {
					tags = append(tags, t)
				}
			}
		}
		out[name] = &pkg{name: name, source: src, section: st["Section"], tags: tags, installedKB: kb}
	})
	return out
}

func readTranslations(path string, pkgs map[string]*pkg) {
	stanzas(path, func(st map[string]string) {
		p := pkgs[st["Package"]]
		if p == nil || p.long != "" {
			return
		}
		short, long, _ := strings.Cut(st["Description-en"], "\n")
		var lines []string
		for _, l := range strings.Split(long, "\n") {
			l = strings.TrimSpace(l)
			if l == "." {
				l = ""
			}
			lines = append(lines, l)
		}
		// The first paragraph is the description proper; later ones are
		// often lists of features or boilerplate about the package split.
		para, _, _ := strings.Cut(strings.TrimSpace(strings.Join(lines, "\n")), "\n\n")
		p.short, p.long = strings.TrimSpace(short), para
	})
}
