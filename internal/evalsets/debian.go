package evalsets

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// Pair is one query/document pair of the Debian set.
type Pair struct {
	Source, Package string
	// Query is the one-line description.
	Query string
	// Doc is the long description with its whitespace collapsed to single
	// spaces; Long is the same text as the list has it, paragraphs
	// separated by blank lines (the trainer embeds this form).
	Doc, Long string
	// Eval reports whether the source is in the evaluation split.
	Eval bool
	// Dev reports whether the source is in the development split.
	Dev bool
}

// Package is one entry of Translation-en joined with its source package.
// Long keeps the list's paragraph breaks as blank lines.
type Package struct {
	Name, Source, Short, Long string
}

// EvalSplit reports whether a source package belongs to the evaluation
// split: sha1(source) as a big-endian integer, mod 10, is 0.
func EvalSplit(source string) bool { return sha1Mod10(source) == 0 }

// DevSplit reports whether a source package belongs to the development
// split (sha1(source) % 10 == 1), on which training settings are chosen;
// like the evaluation split it is never trained on.
func DevSplit(source string) bool { return sha1Mod10(source) == 1 }

// Reserved reports whether a source package is kept out of training: in the
// evaluation or the development split.
func Reserved(source string) bool { return EvalSplit(source) || DevSplit(source) }

// ReadSources reads a Packages list and returns binary → source package.
func ReadSources(r io.Reader) (map[string]string, error) {
	src := map[string]string{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	var cur string
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "Package: "):
			cur = strings.TrimSpace(line[len("Package: "):])
			if _, ok := src[cur]; !ok {
				src[cur] = cur
			}
		case strings.HasPrefix(line, "Source: ") && cur != "":
			if f := strings.Fields(line[len("Source: "):]); len(f) > 0 {
				src[cur] = f[0]
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("debian: Packages: %w", err)
	}
	return src, nil
}

// ReadTranslations reads a Translation-en list (deb822 stanzas with
// Package and Description-en; the long description is the indented
// continuation, " ." marking a paragraph break). The first stanza of a
// package wins, even when it has no Description-en (Short is then empty;
// the trainer's text has always included such entries).
func ReadTranslations(r io.Reader, sources map[string]string) ([]Package, error) {
	var out []Package
	seen := map[string]bool{}
	var p Package
	var long []string
	inDesc := false
	flush := func() {
		if p.Name != "" && !seen[p.Name] {
			seen[p.Name] = true
			p.Long = strings.TrimSpace(strings.Join(long, "\n"))
			p.Source = sources[p.Name]
			if p.Source == "" {
				p.Source = p.Name
			}
			out = append(out, p)
		}
		p, long, inDesc = Package{}, nil, false
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			flush()
		case strings.HasPrefix(line, "Package: "):
			p.Name = strings.TrimSpace(line[len("Package: "):])
			inDesc = false
		case strings.HasPrefix(line, "Description-en: "):
			p.Short = strings.TrimSpace(line[len("Description-en: "):])
			inDesc = true
		case inDesc && strings.HasPrefix(line, " "):
			l := strings.TrimSpace(line)
			if l == "." {
				l = ""
			}
			long = append(long, l)
		default:
			inDesc = false
		}
	}
	flush()
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("debian: Translation-en: %w", err)
	}
	if len(out) == 0 {
		return nil, errors.New("debian: Translation-en holds no descriptions")
	}
	return out, nil
}

// Pairs applies the selection rules to the packages, in source name order.
func Pairs(pkgs []Package) []Pair {
	shortN := map[string]int{}
	longN := map[string]int{}
	for _, p := range pkgs {
		shortN[p.Short]++
		longN[p.Long]++
	}
	bySrc := map[string]Package{}
	for _, p := range pkgs {
		q, ok := bySrc[p.Source]
		switch {
		case !ok:
			bySrc[p.Source] = p
		case q.Name == q.Source:
		case p.Name == p.Source || len(p.Long) > len(q.Long):
			bySrc[p.Source] = p
		}
	}
	srcs := make([]string, 0, len(bySrc))
	for s := range bySrc {
		srcs = append(srcs, s)
	}
	sort.Strings(srcs)
	var out []Pair
	firstPara := map[string]bool{}
	for _, s := range srcs {
		p := bySrc[s]
		if p.Short == "" || shortN[p.Short] != 1 || longN[p.Long] != 1 || len(strings.Fields(p.Long)) < 20 {
			continue
		}
		fp, _, _ := strings.Cut(p.Long, "\n\n")
		if firstPara[fp] {
			continue
		}
		firstPara[fp] = true
		out = append(out, Pair{Source: s, Package: p.Name, Query: p.Short,
			Doc: strings.Join(strings.Fields(p.Long), " "), Long: p.Long, Eval: EvalSplit(s), Dev: DevSplit(s)})
	}
	return out
}

// Load reads the bookworm main Packages and Translation-en lists from an
// apt lists directory and returns the pairs.
func Load(listsDir string) ([]Pair, error) {
	pkgs, err := LoadPackages(listsDir)
	if err != nil {
		return nil, err
	}
	return Pairs(pkgs), nil
}

// LoadPackages reads the bookworm main Packages and Translation-en lists
// from an apt lists directory and returns every described package, in list
// order.
func LoadPackages(listsDir string) ([]Package, error) {
	pk, err := findList(listsDir, "_dists_bookworm_main_binary-amd64_Packages")
	if err != nil {
		return nil, err
	}
	tr, err := findList(listsDir, "_dists_bookworm_main_i18n_Translation-en")
	if err != nil {
		return nil, err
	}
	f, err := os.Open(pk)
	if err != nil {
		return nil, fmt.Errorf("debian: %w", err)
	}
	src, err := ReadSources(f)
	f.Close()
	if err != nil {
		return nil, err
	}
	f, err = os.Open(tr)
	if err != nil {
		return nil, fmt.Errorf("debian: %w", err)
	}
	defer f.Close()
	return ReadTranslations(f, src)
}

// findList returns the uncompressed list in dir whose name ends in suffix.
func findList(dir, suffix string) (string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return "", fmt.Errorf("debian: lists directory: %w", err)
	}
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), suffix) {
			return dir + string(os.PathSeparator) + e.Name(), nil
		}
	}
	return "", fmt.Errorf("debian: no uncompressed *%s in %s", suffix, dir)
}
