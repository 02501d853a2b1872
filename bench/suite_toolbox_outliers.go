package main

// The toolbox-outliers suite: evidence for db.Collection.Outliers and
// Duplicates on real held-out text, through the real database with the
// built-in model, and their speed on 100k × 384 clustered vectors.
//
//   - Outliers: the Debian descriptions of one split (internal/evalsets:
//     dev for tuning k and the method, eval for the figures) with fortunes
//     (Debian's fortunes-min: fortunes, literature, riddles) mixed in at 2%
//     of the set, a disjoint half of the fortunes per split. The figure is
//     the ROC AUC of the outlier score for "is a fortune". The built-in
//     model saw fortunes in training (tools/trainmodel/corpus.go), never
//     the dev or eval descriptions; KJV verses would be the cleaner
//     intruder, but bible-kjv-text stores them in the bible program's own
//     compressed format.
//   - Duplicates: the same split's descriptions plus near-copies of 100 of
//     them, each with 1 to 5 words replaced by words of other descriptions.
//     Precision and recall of the planted pairs over a threshold sweep; the
//     default threshold (db.DefaultDuplicateThreshold) is the best F1 on
//     dev, and eval is reported at it. Natural near-duplicates among the
//     descriptions count as false pairs.
//   - Speed: Outliers and Duplicates (defaults) over --n clustered vectors
//     (synth.Default) in an HNSW collection, with 1 and 2 workers under
//     GOMAXPROCS 1 and 2, wall and process CPU time.

import (
	"context"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/vecbolt/vecbolt/bench/internal/synth"
	"github.com/vecbolt/vecbolt/db"
	"github.com/vecbolt/vecbolt/internal/evalsets"
)

// toolboxOutliersSuite is the suite's name on the command line; it runs
// only when named (it fetches Debian lists and fortunes, and builds a 100k
// collection).
const toolboxOutliersSuite = "toolbox-outliers"

// outlierFraction is the share of intruders in the outlier set.
const outlierFraction = 0.02

// plantedCopies is how many near-copies the duplicates set gets.
const plantedCopies = 100

func (b *bench) toolboxOutliers(ctx context.Context) error {
	if !b.cfg.quick {
		if err := b.toolboxQuality(ctx); err != nil {
			return err
		}
	}
	return b.outlierSpeed(ctx)
}

func (b *bench) toolboxQuality(ctx context.Context) error {
	lists, err := b.debianLists(ctx)
	if err != nil {
		return err
	}
	pairs, err := evalsets.Load(lists)
	if err != nil {
		return err
	}
	odd, err := b.fortuneTexts(ctx)
	if err != nil {
		return err
	}
	for _, split := range []string{"dev", "eval"} {
		var docs []string
		for _, p := range pairs {
			if split == "dev" && p.Dev || split == "eval" && p.Eval {
				docs = append(docs, p.Doc)
			}
		}
		// Half the fortunes per split, by hash, so no intruder is tuned on.
		var intruders []string
		for _, f := range odd {
			if (fnvHash(f)%2 == 0) == (split == "dev") {
				intruders = append(intruders, f)
			}
		}
		if err := b.outlierQuality(ctx, split, docs, intruders); err != nil {
			return err
		}
		if err := b.duplicateQuality(ctx, split, docs); err != nil {
			return err
		}
	}
	return nil
}

func fnvHash(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

// fortuneTexts returns the texts of Debian's fortunes-min (fortunes,
// literature, riddles), whitespace collapsed, fetched into the cache with
// apt-get download and dpkg-deb -x when not there yet.
func (b *bench) fortuneTexts(ctx context.Context) ([]string, error) {
	root := filepath.Join(b.cfg.cache, "fortunes")
	dir := filepath.Join(root, "x", "usr", "share", "games", "fortunes")
	if _, err := os.Stat(filepath.Join(dir, "fortunes")); err != nil {
		debs := filepath.Join(root, "debs")
		if err := os.MkdirAll(debs, 0o755); err != nil {
			return nil, err
		}
		b.logf("%s: fetching fortunes-min into %s (apt-get download, dpkg-deb -x)", toolboxOutliersSuite, root)
		cmd := exec.CommandContext(ctx, "apt-get", "download", "-qq", "fortunes-min")
		cmd.Dir, cmd.Stdout, cmd.Stderr = debs, b.stderr, b.stderr
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("apt-get download fortunes-min: %w", err)
		}
		found, _ := filepath.Glob(filepath.Join(debs, "fortunes-min_*.deb"))
		if len(found) == 0 {
			return nil, fmt.Errorf("apt-get download left no fortunes-min_*.deb in %s", debs)
		}
		cmd = exec.CommandContext(ctx, "dpkg-deb", "-x", found[len(found)-1], filepath.Join(root, "x"))
		cmd.Stdout, cmd.Stderr = b.stderr, b.stderr
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("dpkg-deb -x %s: %w", found[len(found)-1], err)
		}
	}
	var out []string
	seen := map[string]bool{}
	for _, name := range []string{"fortunes", "literature", "riddles"} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		for _, f := range strings.Split(string(data), "\n%\n") {
			t := strings.Join(strings.Fields(strings.TrimSuffix(f, "%")), " ")
			if len(strings.Fields(t)) >= 3 && !seen[t] {
				seen[t] = true
				out = append(out, t)
			}
		}
	}
	return out, nil
}

// outlierCollection stores texts (IDs "t00000"...) in a new database in the
// work directory, embedded by the built-in model (db.Open's default), in
// an HNSW collection with the defaults.
func (b *bench) outlierCollection(ctx context.Context, name string, texts []string) (*db.DB, *db.Collection, error) {
	path := filepath.Join(b.workDir, name+".vecbolt")
	os.Remove(path)
	d, err := db.Open(path)
	if err != nil {
		return nil, nil, err
	}
	c, err := d.CreateCollection(ctx, "c")
	if err != nil {
		d.Close()
		return nil, nil, err
	}
	docs := make([]db.Document, len(texts))
	for i, t := range texts {
		docs[i] = db.Document{ID: fmt.Sprintf("t%05d", i), Text: t}
	}
	for i := 0; i < len(docs); i += 1000 {
		if _, err := c.Insert(ctx, docs[i:min(i+1000, len(docs))]...); err != nil {
			d.Close()
			return nil, nil, err
		}
	}
	return d, c, nil
}

// rocAUC is the probability that a random positive scores above a random
// negative (ties count half): the Mann–Whitney statistic over average
// ranks.
func rocAUC(scores []float64, positive []bool) float64 {
	idx := make([]int, len(scores))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return scores[idx[a]] < scores[idx[b]] })
	var rankSum float64
	var pos, neg int
	for i := 0; i < len(idx); {
		j := i
		for j < len(idx) && scores[idx[j]] == scores[idx[i]] {
			j++
		}
		avg := float64(i+j+1) / 2 // ranks are 1-based
		for _, p := range idx[i:j] {
			if positive[p] {
				rankSum += avg
			}
		}
		i = j
	}
	for _, p := range positive {
		if p {
			pos++
		} else {
			neg++
		}
	}
	if pos == 0 || neg == 0 {
		return 0
	}
	return (rankSum - float64(pos)*float64(pos+1)/2) / (float64(pos) * float64(neg))
}

func (b *bench) outlierQuality(ctx context.Context, split string, docs, intruders []string) error {
	nOdd := int(float64(len(docs)) * outlierFraction / (1 - outlierFraction))
	if len(intruders) < nOdd {
		return fmt.Errorf("%s: %d fortunes for %d intruders", split, len(intruders), nOdd)
	}
	rng := rand.New(rand.NewPCG(15, 2))
	rng.Shuffle(len(intruders), func(i, j int) { intruders[i], intruders[j] = intruders[j], intruders[i] })
	texts := append(slices.Clone(docs), intruders[:nOdd]...)
	d, c, err := b.outlierCollection(ctx, "outliers-"+split, texts)
	if err != nil {
		return err
	}
	defer d.Close()
	dataset := fmt.Sprintf("debian-%s+%d%%fortunes", split, int(outlierFraction*100))
	b.logf("%s: %s: %d descriptions + %d fortunes", toolboxOutliersSuite, dataset, len(docs), nOdd)
	ks := []int{db.DefaultOutlierNeighbours}
	if split == "dev" {
		ks = []int{5, 10, 20, 50, 100}
	}
	for _, method := range []db.OutlierMethod{db.OutlierKthNeighbour, db.OutlierLOF} {
		for _, k := range ks {
			res, err := c.Outliers(ctx, db.Neighbours(k), db.WithOutlierMethod(method), db.OutlierCount(0))
			if err != nil {
				return err
			}
			scores := make([]float64, len(res))
			positive := make([]bool, len(res))
			for i, r := range res {
				var n int
				fmt.Sscanf(r.ID, "t%d", &n)
				scores[i] = float64(r.Score)
				positive[i] = n >= len(docs)
			}
			// How many intruders the top 2% (as many as were planted) holds.
			top := 0
			for _, p := range positive[:nOdd] {
				if p {
					top++
				}
			}
			auc := rocAUC(scores, positive)
			b.rep.add(Measurement{Suite: toolboxOutliersSuite, System: "outliers-" + method.String(), Dataset: dataset, N: len(texts), K: k,
				Params: map[string]any{"auc": round4(auc), "precision_at_planted": round4(float64(top) / float64(nOdd))},
				Note:   "ROC AUC of the outlier score for 'is a fortune'; built-in model, HNSW"})
			b.logf("%s: %s %s k=%d: AUC %.4f, %d/%d fortunes in the top %d", toolboxOutliersSuite, dataset, method, k, auc, top, nOdd, nOdd)
		}
	}
	return nil
}

// nearCopy returns text with 1 to 5 of its words replaced by words of
// other texts.
func nearCopy(rng *rand.Rand, text string, others []string) (string, int) {
	w := strings.Fields(text)
	changes := 1 + rng.IntN(5)
	for range changes {
		o := strings.Fields(others[rng.IntN(len(others))])
		w[rng.IntN(len(w))] = o[rng.IntN(len(o))]
	}
	return strings.Join(w, " "), changes
}

func (b *bench) duplicateQuality(ctx context.Context, split string, docs []string) error {
	rng := rand.New(rand.NewPCG(16, 3))
	texts := slices.Clone(docs)
	truth := map[[2]string]bool{}
	for _, i := range rng.Perm(len(docs))[:plantedCopies] {
		c, _ := nearCopy(rng, docs[i], docs)
		texts = append(texts, c)
		truth[[2]string{fmt.Sprintf("t%05d", i), fmt.Sprintf("t%05d", len(texts)-1)}] = true
	}
	d, c, err := b.outlierCollection(ctx, "duplicates-"+split, texts)
	if err != nil {
		return err
	}
	defer d.Close()
	dataset := fmt.Sprintf("debian-%s+%dnear-copies", split, plantedCopies)
	t0 := time.Now()
	pairs, err := c.Duplicates(ctx, db.DuplicateThreshold(0.7))
	if err != nil {
		return err
	}
	b.logf("%s: %s: %d pairs at 0.7 in %s", toolboxOutliersSuite, dataset, len(pairs), time.Since(t0).Round(time.Millisecond))
	thresholds := []float32{db.DefaultDuplicateThreshold}
	if split == "dev" {
		thresholds = nil
		for i := 70; i <= 99; i++ {
			thresholds = append(thresholds, float32(i)/100)
		}
	}
	bestF1, bestT := -1.0, float32(0)
	for _, t := range thresholds {
		tp, fp := 0, 0
		for _, p := range pairs {
			if p.Score < t {
				break
			}
			if truth[[2]string{p.A, p.B}] {
				tp++
			} else {
				fp++
			}
		}
		prec, rec := 0.0, float64(tp)/float64(len(truth))
		if tp+fp > 0 {
			prec = float64(tp) / float64(tp+fp)
		}
		f1 := 0.0
		if prec+rec > 0 {
			f1 = 2 * prec * rec / (prec + rec)
		}
		if f1 > bestF1 {
			bestF1, bestT = f1, t
		}
		b.rep.add(Measurement{Suite: toolboxOutliersSuite, System: "duplicates", Dataset: dataset, N: len(texts),
			Params: map[string]any{"threshold": round4(float64(t)), "precision": round4(prec), "recall": round4(rec), "f1": round4(f1), "false_pairs": fp},
			Note:   "planted pairs: 100 descriptions with 1-5 words replaced; built-in model, HNSW"})
	}
	b.logf("%s: %s: best F1 %.4f at threshold %.2f (default %v)", toolboxOutliersSuite, dataset, bestF1, bestT, db.DefaultDuplicateThreshold)
	return nil
}

// outlierSpeed times Outliers and Duplicates over --n clustered vectors
// with 1 and 2 workers.
func (b *bench) outlierSpeed(ctx context.Context) error {
	spec := synth.Default(b.cfg.n)
	spec.Queries = 1
	base, _, err := synth.Generate(ctx, spec)
	if err != nil {
		return err
	}
	// With --reuse-db the collection is kept in the cache and, when it
	// already holds the data set, not rebuilt.
	path := filepath.Join(b.workDir, "outliers-speed.vecbolt")
	if b.cfg.reuseDB {
		path = filepath.Join(b.cfg.cache, "toolbox-outliers-"+spec.Name()+".vecbolt")
	} else {
		os.Remove(path)
	}
	d, err := db.Open(path)
	if err != nil {
		return err
	}
	defer d.Close()
	c, err := d.CreateCollection(ctx, "c", db.WithDimension(spec.Dim), db.IfNotExists())
	if err != nil {
		return err
	}
	t0 := time.Now()
	have, err := c.Count(ctx, nil)
	if err != nil {
		return err
	}
	if have == len(base) {
		b.logf("%s: reusing %s", toolboxOutliersSuite, path)
		base = base[:0]
	} else if have != 0 {
		return fmt.Errorf("%s holds %d documents, not 0 or %d: remove it", path, have, len(base))
	}
	for i := 0; i < len(base); i += 5000 {
		docs := make([]db.Document, 0, 5000)
		for j := i; j < min(i+5000, len(base)); j++ {
			docs = append(docs, db.Document{ID: fmt.Sprintf("v%07d", j), Vector: base[j]})
		}
		if _, err := c.Insert(ctx, docs...); err != nil {
			return err
		}
	}
	b.logf("%s: %d × %d clustered vectors stored in %s", toolboxOutliersSuite, spec.N, spec.Dim, time.Since(t0).Round(time.Second))
	prev := runtime.GOMAXPROCS(0)
	defer runtime.GOMAXPROCS(prev)
	for _, threads := range []int{1, 2} {
		runtime.GOMAXPROCS(threads)
		for _, op := range []string{"outliers-kth", "duplicates"} {
			cpu0, cpuOK := processCPU()
			t0 := time.Now()
			var found string
			if op == "duplicates" {
				pairs, err := c.Duplicates(ctx, db.NeighbourWorkers(threads))
				if err != nil {
					return err
				}
				found = fmt.Sprintf("%d pairs at %v", len(pairs), db.DefaultDuplicateThreshold)
			} else {
				res, err := c.Outliers(ctx, db.NeighbourWorkers(threads))
				if err != nil {
					return err
				}
				found = fmt.Sprintf("most isolated %s %.4f", res[0].ID, res[0].Score)
			}
			s := time.Since(t0).Seconds()
			cpu1, _ := processCPU()
			params := map[string]any{"threads": threads, "seconds": round4(s)}
			if cpuOK {
				// CPU seconds stay meaningful on a loaded machine: on an idle
				// one the wall time is about cpu_seconds / threads.
				params["cpu_seconds"] = round4(cpu1 - cpu0)
			}
			k := db.DefaultOutlierNeighbours
			if op == "duplicates" {
				k = db.DefaultDuplicateNeighbours
			}
			b.rep.add(Measurement{Suite: toolboxOutliersSuite, System: op, Dataset: spec.Name(), N: spec.N, Dim: spec.Dim, K: k,
				DocsPerS: fp(float64(spec.N) / s), Params: params,
				Note: "one k-NN search per document through the HNSW index, defaults"})
			b.logf("%s: %s over %d with %d thread(s): %.1f s, %.1f CPU s (%s)", toolboxOutliersSuite, op, spec.N, threads, s, cpu1-cpu0, found)
		}
	}
	return nil
}
