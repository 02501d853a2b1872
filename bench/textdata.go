package main

// The text data set (--dataset text): real sentence embeddings for the ann
// and db suites, next to the clustered synthetic set, because an index
// tuned on Gaussian clusters may behave differently on the uneven,
// hub-rich distributions that text models produce.
//
// Recipe (version textRecipe; changing any step must bump it):
//  1. Texts: every WordNet 3.0 gloss (definition and examples, Debian's
//     wordnet-base) and every long description of Debian bookworm main's
//     Translation-en, whitespace collapsed to single spaces; empty texts
//     dropped; exact duplicates dropped (the first source in that order
//     keeps the text).
//  2. Order: by SHA-256 of textSplitSalt + text. The order does not depend
//     on how the sources list their entries, and a smaller set is a prefix
//     of a larger one.
//  3. Vectors: the built-in model's document side (builtin.Model.Embed) for
//     base and queries alike, L2-normalized again in float64. A text with
//     no known token (zero vector) is dropped, and so is a text whose
//     vector is bit-identical to an earlier one (texts differing only in
//     case or punctuation), so that no query has an exact twin in the base
//     and the ground truth has no ties between distinct ids.
//  4. Split: the first `queries` accepted texts in that order are the
//     queries, the next n the base. Queries and base are disjoint in text
//     and in vector.
//  5. Ground truth: the exact top-100 by inner product (= cosine, unit
//     vectors) with vecbolt's exact index (synth.GroundTruth).
//
// The cache directory (synth.FilesFor with Spec.Source "text-r<recipe>-
// <model hash>") holds base.fvecs, query.fvecs, groundtruth.ivecs (what the
// hnswlib driver and other libraries read), base.txt and query.txt (the
// texts, one a line, in row order) and spec.json (textSpec: sources with
// their files' SHA-256, counts, the model's identity). A cached copy is
// used only if its spec matches the model, the source files and the sizes.

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/vecbolt/vecbolt/bench/internal/synth"
	"github.com/vecbolt/vecbolt/bench/internal/vecio"
	"github.com/vecbolt/vecbolt/embedder"
	"github.com/vecbolt/vecbolt/embedder/builtin"
	"github.com/vecbolt/vecbolt/internal/evalsets"
)

// textRecipe versions the construction described above; it is part of the
// cache directory's name and of spec.json.
const textRecipe = 1

// textSplitSalt keeps the text order independent of other hash-based
// splits in the project (evalsets uses sha1 of names).
const textSplitSalt = "vecbolt-bench-text-v1\x00"

// textGTK is the depth of the stored ground truth, as for the clustered set.
const textGTK = 100

// errTooFewTexts is returned (wrapped) when the sources do not hold enough
// distinct texts for the requested base and query sizes.
var errTooFewTexts = errors.New("not enough distinct texts")

// fileDigest records one input file of a source.
type fileDigest struct {
	Name   string `json:"name"` // base name: paths differ between machines
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
}

func digestFile(path string) (fileDigest, error) {
	f, err := os.Open(path)
	if err != nil {
		return fileDigest{}, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return fileDigest{}, fmt.Errorf("%s: %w", path, err)
	}
	return fileDigest{Name: filepath.Base(path), Bytes: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// textCorpus is one source of texts.
type textCorpus struct {
	Name  string
	Files []fileDigest
	Texts []string
}

// textSourceInfo is a source as spec.json records it.
type textSourceInfo struct {
	Name  string       `json:"name"`
	Files []fileDigest `json:"files"`
	// Texts counts the source's entries as read; Distinct those left after
	// dropping empty texts and duplicates (within and across sources).
	Texts    int `json:"texts"`
	Distinct int `json:"distinct"`
}

// textModel is the embedding model as spec.json records it.
type textModel struct {
	Name    string `json:"name"`
	Hash    string `json:"sha256"`
	Dim     int    `json:"dim"`
	Pooling string `json:"pooling"`
}

// textSpec is spec.json of a text data set.
type textSpec struct {
	Kind      string           `json:"kind"` // always "text"
	Recipe    int              `json:"recipe"`
	N         int              `json:"n"`
	Queries   int              `json:"queries"`
	Dim       int              `json:"dim"`
	GTK       int              `json:"gt_k"`
	Metric    string           `json:"metric"`
	Model     textModel        `json:"model"`
	Embedding string           `json:"embedding"`
	Split     string           `json:"split"`
	Sources   []textSourceInfo `json:"sources"`
	// Pool is the number of distinct non-empty texts; Examined how many of
	// them (in split order) were embedded to fill queries and base.
	Pool     int `json:"pool"`
	Examined int `json:"examined"`
	// DroppedNoVector counts texts without a known token; DroppedDuplicate
	// texts whose vector equals an earlier one.
	DroppedNoVector  int            `json:"dropped_no_vector"`
	DroppedDuplicate int            `json:"dropped_duplicate_vector"`
	BaseBySource     map[string]int `json:"base_by_source"`
	QueriesBySource  map[string]int `json:"queries_by_source"`
}

// cacheKey is what must match for a cached copy to be used: the recipe,
// the sizes, the model and the source files' contents.
func (s *textSpec) cacheKey() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "%s r%d n%d q%d d%d k%d model %s", s.Kind, s.Recipe, s.N, s.Queries, s.Dim, s.GTK, s.Model.Hash)
	for _, src := range s.Sources {
		fmt.Fprintf(&sb, " | %s", src.Name)
		for _, f := range src.Files {
			fmt.Fprintf(&sb, " %s %d %s", f.Name, f.Bytes, f.SHA256)
		}
	}
	return sb.String()
}

// embedFunc embeds one text into dst (length dim). It is called from
// several goroutines at once.
type embedFunc func(text string, dst []float32) error

// textSet is a built text data set.
type textSet struct {
	Spec                textSpec
	Base, Queries       [][]float32
	BaseText, QueryText []string
	GT                  [][]int32
}

// poolEntry is one distinct text with its source and split key.
type poolEntry struct {
	key  [32]byte
	text string
	src  int
}

// textPool normalizes and deduplicates the corpora's texts and returns
// them in split order, with per-source counts filled into infos.
func textPool(corpora []textCorpus) ([]poolEntry, []textSourceInfo) {
	infos := make([]textSourceInfo, len(corpora))
	seen := map[string]bool{}
	var pool []poolEntry
	for ci, c := range corpora {
		infos[ci] = textSourceInfo{Name: c.Name, Files: c.Files, Texts: len(c.Texts)}
		for _, t := range c.Texts {
			t = strings.Join(strings.Fields(t), " ")
			if t == "" || seen[t] {
				continue
			}
			seen[t] = true
			infos[ci].Distinct++
			pool = append(pool, poolEntry{key: sha256.Sum256([]byte(textSplitSalt + t)), text: t, src: ci})
		}
	}
	slices.SortFunc(pool, func(a, b poolEntry) int {
		return cmp.Or(bytes.Compare(a.key[:], b.key[:]), strings.Compare(a.text, b.text))
	})
	return pool, infos
}

// buildTextSet builds the queries, base and ground truth from corpora
// (see the recipe at the top of this file). spec.json's model fields are
// left to the caller.
func buildTextSet(ctx context.Context, corpora []textCorpus, embed embedFunc, dim, n, nq, gtk int) (*textSet, error) {
	switch {
	case dim < 1 || dim > vecio.MaxDim:
		return nil, fmt.Errorf("text data set: dimension %d out of range", dim)
	case n < 1 || nq < 1:
		return nil, fmt.Errorf("text data set: need at least one base and one query text (n %d, queries %d)", n, nq)
	case gtk < 1:
		return nil, fmt.Errorf("text data set: ground-truth depth %d must be positive", gtk)
	}
	pool, infos := textPool(corpora)
	want := n + nq
	if len(pool) < want {
		return nil, fmt.Errorf("text data set: %d distinct texts, need %d (n %d + queries %d): %w", len(pool), want, n, nq, errTooFewTexts)
	}
	spec := textSpec{Kind: "text", Recipe: textRecipe, N: n, Queries: nq, Dim: dim, GTK: gtk,
		Metric:    "cosine (vectors L2-normalized, so inner product); ground truth exact, float32 scores",
		Embedding: "document side (builtin Model.Embed) for base and queries alike, L2-normalized",
		Split: fmt.Sprintf("distinct texts sorted by sha256(%q + text); texts without a vector or with a vector equal to an earlier one dropped; first %d = queries, next %d = base",
			textSplitSalt, nq, n),
		Sources: infos, Pool: len(pool), BaseBySource: map[string]int{}, QueriesBySource: map[string]int{}}

	accepted := make([][]float32, 0, want)
	acceptedAt := make([]int, 0, want) // pool index of each accepted vector
	seenVec := map[[32]byte]bool{}
	// Embedding runs in parallel over chunks of the pool; acceptance runs in
	// pool order, so the outcome does not depend on the worker count.
	const chunk = 8192
	workers := max(1, runtime.GOMAXPROCS(0))
	raw := make([]byte, 4*dim)
	for start := 0; start < len(pool) && len(accepted) < want; start += chunk {
		end := min(start+chunk, len(pool))
		vecs, err := embedChunk(ctx, pool[start:end], embed, dim, workers)
		if err != nil {
			return nil, err
		}
		for i, v := range vecs {
			spec.Examined = start + i + 1
			if v == nil {
				spec.DroppedNoVector++
				continue
			}
			for j, x := range v {
				binary.LittleEndian.PutUint32(raw[4*j:], math.Float32bits(x))
			}
			h := sha256.Sum256(raw)
			if seenVec[h] {
				spec.DroppedDuplicate++
				continue
			}
			seenVec[h] = true
			accepted = append(accepted, v)
			acceptedAt = append(acceptedAt, start+i)
			if len(accepted) == want {
				break
			}
		}
	}
	if len(accepted) < want {
		return nil, fmt.Errorf("text data set: %d distinct texts with distinct vectors, need %d (n %d + queries %d): %w",
			len(accepted), want, n, nq, errTooFewTexts)
	}
	ts := &textSet{Spec: spec, Queries: accepted[:nq], Base: accepted[nq:]}
	for i, pi := range acceptedAt {
		e := pool[pi]
		if i < nq {
			ts.QueryText = append(ts.QueryText, e.text)
			ts.Spec.QueriesBySource[corpora[e.src].Name]++
		} else {
			ts.BaseText = append(ts.BaseText, e.text)
			ts.Spec.BaseBySource[corpora[e.src].Name]++
		}
	}
	gt, err := synth.GroundTruth(ctx, ts.Base, ts.Queries, min(gtk, n))
	if err != nil {
		return nil, fmt.Errorf("text data set: %w", err)
	}
	ts.GT = gt
	return ts, nil
}

// embedChunk embeds the entries on workers goroutines. A text the model
// finds no token in (or that normalizes to nothing) gets a nil vector.
func embedChunk(ctx context.Context, entries []poolEntry, embed embedFunc, dim, workers int) ([][]float32, error) {
	out := make([][]float32, len(entries))
	backing := make([]float32, len(entries)*dim)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(entries); i += workers {
				if i%1024 == w && ctx.Err() != nil {
					errs[w] = ctx.Err()
					return
				}
				v := backing[i*dim : (i+1)*dim : (i+1)*dim]
				if err := embed(entries[i].text, v); err != nil {
					if errors.Is(err, embedder.ErrEmptyText) {
						continue
					}
					errs[w] = fmt.Errorf("text data set: embedding %q: %w", truncate(entries[i].text, 60), err)
					return
				}
				if normalize(v) {
					out[i] = v
				}
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

// normalize scales v to unit length in float64 and reports whether it had
// a finite, non-zero length.
func normalize(v []float32) bool {
	var sum float64
	for _, x := range v {
		sum += float64(x) * float64(x)
	}
	if !(sum > 0) || math.IsInf(sum, 0) {
		return false
	}
	inv := 1 / math.Sqrt(sum)
	for j, x := range v {
		v[j] = float32(float64(x) * inv)
	}
	return true
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// textFiles are the text-only files of a cached text data set, next to
// synth.FilesFor's.
func textFiles(fs synth.Files) (baseText, queryText string) {
	return filepath.Join(fs.Dir, "base.txt"), filepath.Join(fs.Dir, "query.txt")
}

// writeTextSet caches ts in fs (spec.json last: its presence marks a
// complete set).
func writeTextSet(fs synth.Files, ts *textSet) error {
	if err := os.MkdirAll(fs.Dir, 0o755); err != nil {
		return fmt.Errorf("text data set: cache: %w", err)
	}
	os.Remove(fs.Meta)
	baseText, queryText := textFiles(fs)
	lines := func(texts []string) func(io.Writer) error {
		return func(w io.Writer) error {
			for _, t := range texts {
				if _, err := io.WriteString(w, t+"\n"); err != nil {
					return err
				}
			}
			return nil
		}
	}
	steps := []struct {
		path  string
		write func(io.Writer) error
	}{
		{fs.Base, func(w io.Writer) error { return vecio.WriteFvecs(w, ts.Base) }},
		{fs.Queries, func(w io.Writer) error { return vecio.WriteFvecs(w, ts.Queries) }},
		{fs.GT, func(w io.Writer) error { return vecio.WriteIvecs(w, ts.GT) }},
		{baseText, lines(ts.BaseText)},
		{queryText, lines(ts.QueryText)},
		{fs.Meta, func(w io.Writer) error {
			enc := json.NewEncoder(w)
			enc.SetIndent("", "  ")
			return enc.Encode(ts.Spec)
		}},
	}
	for _, st := range steps {
		if err := vecio.WriteFileAtomic(st.path, st.write); err != nil {
			return fmt.Errorf("text data set: cache %s: %w", st.path, err)
		}
	}
	return nil
}

// readTextSet returns the cached set in fs if its spec has want's cache key
// and its files have the recorded shape. Texts are not read: the suites
// need only the vectors.
func readTextSet(fs synth.Files, want *textSpec) (*textSet, error) {
	b, err := os.ReadFile(fs.Meta)
	if err != nil {
		return nil, err
	}
	var got textSpec
	if err := json.Unmarshal(b, &got); err != nil {
		return nil, fmt.Errorf("%s: %w", fs.Meta, err)
	}
	if got.cacheKey() != want.cacheKey() {
		return nil, fmt.Errorf("%s describes another build", fs.Meta)
	}
	base, _, err := vecio.ReadFvecsFile(fs.Base, vecio.Options{WantDim: got.Dim})
	if err != nil {
		return nil, err
	}
	queries, _, err := vecio.ReadFvecsFile(fs.Queries, vecio.Options{WantDim: got.Dim})
	if err != nil {
		return nil, err
	}
	gt, _, err := vecio.ReadIvecsFile(fs.GT, vecio.Options{WantDim: min(got.GTK, got.N)})
	if err != nil {
		return nil, err
	}
	if len(base) != got.N || len(queries) != got.Queries || len(gt) != got.Queries {
		return nil, fmt.Errorf("%s: cached files have the wrong shape", fs.Dir)
	}
	for i, row := range gt {
		for _, id := range row {
			if int(id) >= got.N {
				return nil, fmt.Errorf("%s: ground truth row %d names id %d beyond n", fs.Dir, i, id)
			}
		}
	}
	return &textSet{Spec: got, Base: base, Queries: queries, GT: gt}, nil
}

// textCorpora reads the two sources, fetching them into the cache first
// when needed (the same fetchers as the quality suite).
func (b *bench) textCorpora(ctx context.Context) ([]textCorpus, error) {
	root, err := b.wordnetRoot(ctx)
	if err != nil {
		return nil, err
	}
	wnDir := evalsets.WordNetDir(root)
	wn, err := evalsets.ReadWordNet(wnDir)
	if err != nil {
		return nil, err
	}
	glosses := textCorpus{Name: "wordnet-3.0-glosses"}
	for _, f := range []string{"data.noun", "data.verb", "data.adj", "data.adv"} {
		d, err := digestFile(filepath.Join(wnDir, f))
		if err != nil {
			return nil, err
		}
		glosses.Files = append(glosses.Files, d)
	}
	for _, s := range wn.Synsets {
		glosses.Texts = append(glosses.Texts, s.Gloss)
	}

	lists, err := b.debianLists(ctx)
	if err != nil {
		return nil, err
	}
	found, err := filepath.Glob(filepath.Join(lists, "*_dists_bookworm_main_i18n_Translation-en"))
	if err != nil || len(found) != 1 {
		return nil, fmt.Errorf("text data set: want one uncompressed bookworm main Translation-en in %s, found %d", lists, len(found))
	}
	d, err := digestFile(found[0])
	if err != nil {
		return nil, err
	}
	f, err := os.Open(found[0])
	if err != nil {
		return nil, err
	}
	// Source packages do not matter here, so the Packages list is not read.
	pkgs, err := evalsets.ReadTranslations(f, nil)
	f.Close()
	if err != nil {
		return nil, err
	}
	debian := textCorpus{Name: "debian-bookworm-long-descriptions", Files: []fileDigest{d}}
	for _, p := range pkgs {
		debian.Texts = append(debian.Texts, p.Long)
	}
	return []textCorpus{glosses, debian}, nil
}

// textDataset returns the text data set with n base vectors and
// --queries queries, from the cache or built into it.
func (b *bench) textDataset(ctx context.Context, n int) (*synth.Data, error) {
	model, err := builtin.New()
	if err != nil {
		return nil, err
	}
	id := model.Identity()
	corpora, err := b.textCorpora(ctx)
	if err != nil {
		return nil, err
	}
	hash := id.Hash
	if len(hash) > 12 {
		hash = hash[:12]
	}
	spec := synth.Spec{Source: fmt.Sprintf("text-r%d-%s", textRecipe, hash), N: n, Queries: b.cfg.queries, Dim: id.Dim, GTK: textGTK}
	fs := synth.FilesFor(b.cfg.cache, spec)
	want := textSpec{Kind: "text", Recipe: textRecipe, N: n, Queries: b.cfg.queries, Dim: id.Dim, GTK: textGTK,
		Model: textModel{Name: id.Name, Hash: id.Hash, Dim: id.Dim, Pooling: id.Pooling}}
	for _, c := range corpora {
		want.Sources = append(want.Sources, textSourceInfo{Name: c.Name, Files: c.Files})
	}
	if ts, err := readTextSet(fs, &want); err == nil {
		b.logf("dataset %s: read from cache (%s)", spec.Name(), fs.Dir)
		return &synth.Data{Spec: spec, Base: ts.Base, Queries: ts.Queries, GT: ts.GT}, nil
	}
	ts, err := buildTextSet(ctx, corpora, model.Embed, id.Dim, n, b.cfg.queries, textGTK)
	if err != nil {
		return nil, err
	}
	ts.Spec.Model = want.Model
	if err := writeTextSet(fs, ts); err != nil {
		return nil, err
	}
	b.logf("dataset %s: built from %d distinct texts (%d examined, %d without a vector, %d duplicate vectors; base %v, queries %v) with exact ground truth (%s)",
		spec.Name(), ts.Spec.Pool, ts.Spec.Examined, ts.Spec.DroppedNoVector, ts.Spec.DroppedDuplicate,
		ts.Spec.BaseBySource, ts.Spec.QueriesBySource, fs.Dir)
	return &synth.Data{Spec: spec, Base: ts.Base, Queries: ts.Queries, GT: ts.GT}, nil
}
