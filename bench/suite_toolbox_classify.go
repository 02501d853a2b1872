package main

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/vecbolt/vecbolt/db"
	"github.com/vecbolt/vecbolt/internal/evalsets"
)

// The classify suite measures db.Collection.Classify on real held-out
// data: Debian package descriptions labelled with their archive section.
//
// Data: the Debian retrieval set's packages (evalsets.Load: one package
// per source, with a distinctive description), each text being the short
// description, ". ", and the long one; the label is the package's Section
// in bookworm main's Packages list (a "contrib/" style prefix removed).
// Only sections with at least classifyMinSection packages in the set take
// part. The sources' split (evalsets.EvalSplit, DevSplit) decides the role:
// evaluation-split packages are the queries of the figures, dev-split
// packages the queries on which k is chosen, and all others are the
// labelled documents that vote. The built-in model never trained on the
// dev or evaluation split.
//
// Systems, each with k chosen on the dev split among classifyKs and then
// measured once on the evaluation split:
//   - vecbolt-classify: the voters inserted into a real database (built-in
//     model, default HNSW index), each query through Collection.Classify;
//   - tfidf-knn: the same similarity-weighted vote over the k nearest
//     voters by cosine of TF-IDF vectors (sublinear tf, smoothed idf, over
//     lower-cased letter/digit words), searched exactly: the classic
//     baseline;
//   - majority-class: every query gets the voters' most frequent section.
//
// Accuracy is the fraction of queries labelled with their own section;
// balanced accuracy is the mean over sections of that fraction, which
// majority-class cannot inflate. A query the model cannot embed (no known
// word) counts as wrong.

// classifyMinSection is the least number of packages a section needs in
// the set to take part.
const classifyMinSection = 100

// classifyKs are the neighbour counts tried on the dev split.
var classifyKs = []int{1, 3, 5, 10, 15, 20, 30, 50, 75, 100}

// classifyItem is one labelled description.
type classifyItem struct {
	text, section string
}

// classifyData is the suite's data: voters, dev and evaluation queries.
type classifyData struct {
	voters, dev, eval []classifyItem
	sections          []string
}

func (b *bench) classifySuite(ctx context.Context) error {
	if b.cfg.quick {
		b.logf("classify: skipped with --quick (needs Debian's package lists)")
		return nil
	}
	lists, err := b.debianLists(ctx)
	if err != nil {
		return err
	}
	data, err := loadClassifyData(lists)
	if err != nil {
		return err
	}
	b.logf("classify: %d sections, %d voters, %d dev and %d evaluation queries", len(data.sections), len(data.voters), len(data.dev), len(data.eval))
	base := Measurement{Suite: "classify", Dataset: "debian-sections-eval", N: len(data.voters)}
	emit := func(system string, k int, devAcc float64, sc classifyScore, note string) {
		m := base
		m.System, m.K, m.Note = system, k, note
		m.Params = map[string]any{"accuracy": round4(sc.accuracy), "balanced_accuracy": round4(sc.balanced),
			"queries": len(data.eval), "classes": len(data.sections)}
		if devAcc >= 0 {
			m.Params["dev_accuracy"] = round4(devAcc)
		}
		if sc.failed > 0 {
			m.Params["unembeddable"] = sc.failed
		}
		b.rep.add(m)
		b.logf("classify: %s k=%d: accuracy %.4f balanced %.4f (dev %.4f)", system, k, sc.accuracy, sc.balanced, devAcc)
	}

	// Majority class.
	counts := map[string]int{}
	for _, v := range data.voters {
		counts[v.section]++
	}
	major := slices.MaxFunc(slices.Sorted(maps.Keys(counts)), func(a, c string) int { return cmp.Compare(counts[a], counts[c]) })
	emit("majority-class", 0, -1, scoreLabels(data.eval, func(int) (string, bool) { return major, true }), "the voters' most frequent section: "+major)

	// vecbolt: the real database.
	path := filepath.Join(b.workDir, "classify.vecbolt")
	os.Remove(path)
	defer os.Remove(path)
	d, err := db.Open(path)
	if err != nil {
		return err
	}
	defer d.Close()
	c, err := d.CreateCollection(ctx, "pkgs")
	if err != nil {
		return err
	}
	t0 := time.Now()
	docs := make([]db.Document, len(data.voters))
	for i, v := range data.voters {
		docs[i] = db.Document{ID: fmt.Sprintf("v%05d", i), Text: v.text, Metadata: map[string]any{"section": v.section}}
	}
	res, err := c.InsertWith(ctx, docs, db.SkipInvalid())
	if err != nil {
		return err
	}
	b.logf("classify: inserted %d voters (%d without a known word left out) in %s", len(docs)-len(res.Rejected), len(res.Rejected), time.Since(t0).Round(time.Second))
	vecbolt := func(items []classifyItem, k int) (classifyScore, error) {
		var runErr error
		sc := scoreLabels(items, func(i int) (string, bool) {
			cl, err := c.Classify(ctx, items[i].text, "section", db.TopK(k))
			if err != nil {
				if !unembeddable(err) && runErr == nil {
					runErr = err
				}
				return "", false
			}
			return cl.Label, true
		})
		return sc, runErr
	}
	k, devAcc, err := tuneK(func(k int) (classifyScore, error) { return vecbolt(data.dev, k) })
	if err != nil {
		return err
	}
	t0 = time.Now()
	sc, err := vecbolt(data.eval, k)
	if err != nil {
		return err
	}
	emit("vecbolt-classify", k, devAcc, sc, fmt.Sprintf("built-in model, HNSW, through Collection.Classify; %.0f queries/s on a shared machine", float64(len(data.eval))/time.Since(t0).Seconds()))

	// TF-IDF kNN with the same vote; each query's neighbours are found
	// once, for the largest k.
	tf := newTFIDF(data.voters)
	kmax := slices.Max(classifyKs)
	nbs := func(items []classifyItem) [][]posting {
		out := make([][]posting, len(items))
		for i, it := range items {
			out[i] = tf.neighbours(it.text, kmax)
		}
		return out
	}
	devNb, evalNb := nbs(data.dev), nbs(data.eval)
	tfidf := func(items []classifyItem, nb [][]posting, k int) classifyScore {
		return scoreLabels(items, func(i int) (string, bool) {
			if nb[i] == nil {
				return "", false
			}
			return tf.vote(nb[i], k), true
		})
	}
	k, devAcc, _ = tuneK(func(k int) (classifyScore, error) { return tfidf(data.dev, devNb, k), nil })
	emit("tfidf-knn", k, devAcc, tfidf(data.eval, evalNb, k), "cosine of TF-IDF vectors, exact, same similarity-weighted vote")
	return nil
}

// tuneK returns the k of classifyKs with the best dev accuracy (the
// smallest on a tie) and that accuracy.
func tuneK(run func(k int) (classifyScore, error)) (int, float64, error) {
	bestK, best := 0, -1.0
	for _, k := range classifyKs {
		sc, err := run(k)
		if err != nil {
			return 0, 0, err
		}
		if sc.accuracy > best {
			bestK, best = k, sc.accuracy
		}
	}
	return bestK, best, nil
}

// classifyScore is accuracy over a query set.
type classifyScore struct {
	accuracy, balanced float64
	failed             int
}

// scoreLabels labels every item with predict and scores the labels.
func scoreLabels(items []classifyItem, predict func(i int) (string, bool)) classifyScore {
	right, per, perRight := 0, map[string]int{}, map[string]int{}
	failed := 0
	for i, it := range items {
		per[it.section]++
		got, ok := predict(i)
		if !ok {
			failed++
			continue
		}
		if got == it.section {
			right++
			perRight[it.section]++
		}
	}
	var bal float64
	for s, n := range per {
		bal += float64(perRight[s]) / float64(n)
	}
	return classifyScore{accuracy: float64(right) / float64(len(items)), balanced: bal / float64(len(per)), failed: failed}
}

// loadClassifyData builds the suite's data from an apt lists directory.
func loadClassifyData(lists string) (classifyData, error) {
	pairs, err := evalsets.Load(lists)
	if err != nil {
		return classifyData{}, err
	}
	sections, err := packageSections(lists)
	if err != nil {
		return classifyData{}, err
	}
	count := map[string]int{}
	for _, p := range pairs {
		if s := sections[p.Package]; s != "" {
			count[s]++
		}
	}
	var data classifyData
	for s, n := range count {
		if n >= classifyMinSection {
			data.sections = append(data.sections, s)
		}
	}
	slices.Sort(data.sections)
	for _, p := range pairs {
		s := sections[p.Package]
		if !slices.Contains(data.sections, s) {
			continue
		}
		it := classifyItem{text: p.Query + ". " + p.Doc, section: s}
		switch {
		case p.Eval:
			data.eval = append(data.eval, it)
		case p.Dev:
			data.dev = append(data.dev, it)
		default:
			data.voters = append(data.voters, it)
		}
	}
	if len(data.sections) < 2 || len(data.eval) == 0 || len(data.dev) == 0 {
		return data, fmt.Errorf("classify: too little data: %d sections, %d dev and %d evaluation queries", len(data.sections), len(data.dev), len(data.eval))
	}
	return data, nil
}

// packageSections reads binary package → section from bookworm main's
// Packages list in dir.
func packageSections(dir string) (map[string]string, error) {
	found, err := filepath.Glob(filepath.Join(dir, "*_dists_bookworm_main_binary-amd64_Packages"))
	if err != nil || len(found) == 0 {
		return nil, errors.Join(fmt.Errorf("classify: no bookworm main Packages list in %s", dir), err)
	}
	f, err := os.Open(found[0])
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	var pkg string
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "Package: "):
			pkg = strings.TrimSpace(line[len("Package: "):])
		case strings.HasPrefix(line, "Section: ") && pkg != "":
			s := strings.TrimSpace(line[len("Section: "):])
			if i := strings.LastIndexByte(s, '/'); i >= 0 {
				s = s[i+1:]
			}
			if _, ok := out[pkg]; !ok {
				out[pkg] = s
			}
		}
	}
	return out, sc.Err()
}

// tfidf is an exact cosine kNN over TF-IDF vectors of the voters.
type tfidf struct {
	idf      map[string]float64
	postings map[string][]posting
	labels   []string
	scores   []float64 // scratch, one per voter
}

type posting struct {
	doc int
	w   float64
}

// words splits text into lower-cased letter/digit words.
func words(text string) []string {
	return strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

// weights is text's unit TF-IDF vector: (1 + ln tf) × idf, normalized.
// Words unknown to the voters carry no weight.
func (t *tfidf) weights(text string) map[string]float64 {
	tf := map[string]int{}
	for _, w := range words(text) {
		tf[w]++
	}
	out := map[string]float64{}
	var n2 float64
	for w, n := range tf {
		idf, ok := t.idf[w]
		if !ok {
			continue
		}
		x := (1 + math.Log(float64(n))) * idf
		out[w] = x
		n2 += x * x
	}
	for w := range out {
		out[w] /= math.Sqrt(n2)
	}
	return out
}

func newTFIDF(voters []classifyItem) *tfidf {
	t := &tfidf{idf: map[string]float64{}, postings: map[string][]posting{}, scores: make([]float64, len(voters))}
	df := map[string]int{}
	for _, v := range voters {
		seen := map[string]bool{}
		for _, w := range words(v.text) {
			if !seen[w] {
				seen[w] = true
				df[w]++
			}
		}
		t.labels = append(t.labels, v.section)
	}
	n := float64(len(voters))
	for w, d := range df {
		t.idf[w] = math.Log((1+n)/(1+float64(d))) + 1
	}
	for i, v := range voters {
		for w, x := range t.weights(v.text) {
			t.postings[w] = append(t.postings[w], posting{i, x})
		}
	}
	return t
}

// neighbours returns the kmax voters of highest cosine with text, best
// first (ties by voter order), with their cosines; nil when no word of
// text is known to the voters.
func (t *tfidf) neighbours(text string, kmax int) []posting {
	q := t.weights(text)
	if len(q) == 0 {
		return nil
	}
	clear(t.scores)
	for w, x := range q {
		for _, p := range t.postings[w] {
			t.scores[p.doc] += x * p.w
		}
	}
	better := func(a, b posting) int { return cmp.Or(cmp.Compare(b.w, a.w), cmp.Compare(a.doc, b.doc)) }
	top := make([]posting, 0, kmax+1)
	for i, x := range t.scores {
		p := posting{i, x}
		if len(top) == kmax && better(p, top[kmax-1]) >= 0 {
			continue
		}
		at, _ := slices.BinarySearchFunc(top, p, better)
		top = slices.Insert(top, at, p)
		if len(top) > kmax {
			top = top[:kmax]
		}
	}
	return top
}

// vote is Collection.Classify's vote over the first k neighbours: each
// weighted by its cosine, equal weights when all are 0, a tie going to
// the smallest label.
func (t *tfidf) vote(nb []posting, k int) string {
	nb = nb[:min(k, len(nb))]
	vote := map[string]float64{}
	var total float64
	for _, p := range nb {
		vote[t.labels[p.doc]] += p.w
		total += p.w
	}
	if total == 0 {
		for _, p := range nb {
			vote[t.labels[p.doc]]++
		}
	}
	// MaxFunc keeps the first of equal maxima, and the labels are sorted.
	return slices.MaxFunc(slices.Sorted(maps.Keys(vote)), func(a, b string) int { return cmp.Compare(vote[a], vote[b]) })
}
