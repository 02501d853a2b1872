// Command ragdev is the dev-split sweep behind SearchDocuments' defaults
// and the rag suite's passage size (issue 18; BENCHMARKS.md, "Long
// documents"). It scores every man page exactly (no candidate cut-off
// unless an experiment says so) for the dev split's 105 queries only, so
// settings can be compared without seeing the evaluation split; -split
// eval -exp chosen reports the chosen setting on the evaluation split.
// The man pages must be in the bench cache (run `go run ./bench longdoc`
// once).
//
// Experiments (-exp, comma separated; -sets gives size/overlap pairs):
// sizes, overlap (passage size and overlap, max + w·whole), sentences
// (one passage per sentence), pool (mean of the top m passages,
// log-sum-exp pooling), lenpen (max - c·ln(passages) + w·whole), hier (a
// page's sections as a middle level, neighbours' scores), center
// (mean-centred vectors), std (max + w·whole for -sets), chosen.
package main

import (
	"context"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/clipperhouse/uax29/v2/sentences"
	"github.com/vecbolt/vecbolt/bench/internal/retrieval"
	"github.com/vecbolt/vecbolt/chunk"
	"github.com/vecbolt/vecbolt/db"
	"github.com/vecbolt/vecbolt/embedder"
	"github.com/vecbolt/vecbolt/embedder/tokenizer"
	"github.com/vecbolt/vecbolt/internal/evalsets"
)

// sweep is one run's data: the pages, the model, the selected queries and
// their vectors, shared by every experiment of the run.
type sweep struct {
	sets    [][2]int
	e       embedder.Embedder
	pages   []evalsets.ManPage
	docs    []string
	qsel    []int
	qvecs   [][]float32
	whole   [][]float32
	counter chunk.Counter
}

func main() {
	sw := &sweep{}
	show := flag.String("show", "", "print a page's text")
	split := flag.String("split", "dev", "dev; eval only with -exp chosen")
	exps := flag.String("exp", "sizes", "comma list of experiments")
	setsFlag := flag.String("sets", "16/8", "size/overlap list for lenpen, hier, center, pool")
	flag.Parse()
	if *split != "dev" && (*split != "eval" || *exps != "chosen") {
		fmt.Fprintln(os.Stderr, "ragdev: settings are compared on -split dev; -split eval is for -exp chosen")
		os.Exit(2)
	}
	ctx := context.Background()
	home, _ := os.UserHomeDir()
	root := filepath.Join(home, ".cache/vecbolt/bench/manpages/unpacked")
	var err error
	sw.pages, err = evalsets.LoadManPages(root)
	check(err)
	if *show != "" {
		for _, p := range sw.pages {
			if p.Name == *show {
				fmt.Printf("QUERY: %s\n%s\n", p.Query, p.Text)
			}
		}
		return
	}
	path := filepath.Join(os.TempDir(), fmt.Sprintf("ragdev-%d.vecbolt", os.Getpid()))
	d, err := db.Open(path)
	check(err)
	sw.e, err = d.Embedder()
	check(err)
	d.Close()
	os.Remove(path)
	tok := sw.e.(interface{ Tokenizer() *tokenizer.Tokenizer }).Tokenizer()
	var ids []int32
	sw.counter = chunk.CounterFunc(func(t string) int { ids = tok.AppendIDs(ids[:0], t); return len(ids) })
	for i, p := range sw.pages {
		sw.docs = append(sw.docs, p.Text)
		if (*split == "dev") == p.Dev {
			sw.qsel = append(sw.qsel, i)
		}
	}
	for _, i := range sw.qsel {
		v, err := sw.e.EmbedQuery(ctx, sw.pages[i].Query)
		check(err)
		sw.qvecs = append(sw.qvecs, v)
	}
	sw.whole, err = sw.e.EmbedDocuments(ctx, sw.docs)
	check(err)
	fmt.Printf("%d pages, %d queries (%s)\n", len(sw.pages), len(sw.qsel), *split)
	for _, x := range strings.Split(*setsFlag, ",") {
		var a, b int
		fmt.Sscanf(x, "%d/%d", &a, &b)
		sw.sets = append(sw.sets, [2]int{a, b})
	}
	for _, x := range strings.Split(*exps, ",") {
		sw.run(ctx, x)
	}
}

func check(err error) {
	if err != nil {
		panic(err)
	}
}

// passageSet: texts to embed and their owner pages.
type passageSet struct {
	name  string
	texts []string
	owner []int
	pos   []int // index within page
	start []int // byte offset in page
}

func (sw *sweep) chunked(size, overlap int, prefix func(page int, start int) string) passageSet {
	var s passageSet
	s.name = fmt.Sprintf("size=%d ov=%d", size, overlap)
	for i, d := range sw.docs {
		ps, err := chunk.Split(d, chunk.WithMaxTokens(size), chunk.WithOverlap(overlap), chunk.WithCounter(sw.counter))
		check(err)
		for j, p := range ps {
			t := d[p.Start:p.End]
			if prefix != nil {
				t = prefix(i, p.Start) + t
			}
			s.texts = append(s.texts, t)
			s.owner = append(s.owner, i)
			s.pos = append(s.pos, j)
			s.start = append(s.start, p.Start)
		}
	}
	return s
}

// sectionSet splits each page at its SH headings (a paragraph of one
// upper-case line); a section is its heading and body.
func (sw *sweep) sectionSet() passageSet {
	var s passageSet
	s.name = "sections"
	for i, d := range sw.docs {
		starts := sectionStarts(d)
		for j, st := range starts {
			end := len(d)
			if j+1 < len(starts) {
				end = starts[j+1]
			}
			t := strings.TrimSpace(d[st:end])
			if t == "" {
				t = "."
			}
			s.texts = append(s.texts, t)
			s.owner = append(s.owner, i)
			s.pos = append(s.pos, j)
			s.start = append(s.start, st)
		}
	}
	return s
}

func sectionStarts(d string) []int {
	out := []int{0}
	off := 0
	for _, para := range strings.Split(d, "\n\n") {
		t := strings.TrimSpace(para)
		if off > 0 && t != "" && !strings.Contains(t, "\n") && t == strings.ToUpper(t) && strings.ToLower(t) != t {
			out = append(out, off)
		}
		off += len(para) + 2
	}
	return out
}

func (sw *sweep) sentenceSet() passageSet {
	var s passageSet
	s.name = "sentences"
	for i, d := range sw.docs {
		j := 0
		for _, para := range strings.Split(d, "\n\n") {
			it := sentences.FromString(para)
			for it.Next() {
				t := strings.TrimSpace(it.Value())
				if t == "" {
					continue
				}
				s.texts = append(s.texts, t)
				s.owner = append(s.owner, i)
				s.pos = append(s.pos, j)
				j++
			}
		}
	}
	return s
}

// scores[q][page] = passage scores in page order.
type scored struct {
	set passageSet
	per [][][]float64 // [q][page][]score
	wh  [][]float64   // [q][page]
	top [][]int       // [q] passage ids of the 400 best
	sc  [][]float64   // [q][passage]
}

func (sw *sweep) score(ctx context.Context, s passageSet) scored {
	t0 := time.Now()
	var vecs [][]float32
	for i := 0; i < len(s.texts); i += 512 {
		v, err := sw.e.EmbedDocuments(ctx, s.texts[i:min(i+512, len(s.texts))])
		check(err)
		vecs = append(vecs, v...)
	}
	out := scored{set: s}
	qs, wv := sw.qvecs, sw.whole
	if center != 0 {
		vecs = sw.centered(vecs, vecs, 1)
		wv = sw.centered(sw.whole, sw.whole, 1)
		if center == 2 {
			qs = sw.centered(sw.qvecs, nil, 0)
		}
	}
	for q, qv := range qs {
		_ = q
		per := make([][]float64, len(sw.docs))
		sc := make([]float64, len(vecs))
		for p, v := range vecs {
			x := float64(dot(qv, v))
			sc[p] = x
			per[s.owner[p]] = append(per[s.owner[p]], x)
		}
		wh := make([]float64, len(sw.docs))
		for i := range sw.docs {
			wh[i] = float64(dot(qv, wv[i]))
		}
		if !skipTop {
			idx := make([]int, len(sc))
			for i := range idx {
				idx[i] = i
			}
			sort.SliceStable(idx, func(a, b int) bool { return sc[idx[a]] > sc[idx[b]] })
			out.top = append(out.top, idx[:min(400, len(idx))])
			out.sc = append(out.sc, sc)
		}
		out.per = append(out.per, per)
		out.wh = append(out.wh, wh)
	}
	fmt.Printf("# %s: %d passages, embedded+scored in %v\n", s.name, len(s.texts), time.Since(t0).Round(time.Millisecond))
	return out
}

func dot(a, b []float32) float32 {
	var s float32
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// center: 0 none, 1 center documents' vectors by their mean, 2 also the
// queries' by the passages' mean.
var center int

// skipTop leaves out the 400-best candidate lists (only report needs them).
var skipTop bool
var lastMu []float32

func mean(vs [][]float32) []float32 {
	mu := make([]float32, len(vs[0]))
	for _, v := range vs {
		for i, x := range v {
			mu[i] += x
		}
	}
	for i := range mu {
		mu[i] /= float32(len(vs))
	}
	return mu
}

// centered returns normalize(v - mean(of)) for each v; with keep == 1 the
// mean is remembered for centering queries.
func (sw *sweep) centered(vs, of [][]float32, keep int) [][]float32 {
	mu := lastMu
	if keep == 1 {
		mu = mean(of)
		if len(of) != len(sw.whole) {
			lastMu = mu
		}
	}
	out := make([][]float32, len(vs))
	for k, v := range vs {
		u := make([]float32, len(v))
		var n float64
		for i := range v {
			u[i] = v[i] - mu[i]
			n += float64(u[i]) * float64(u[i])
		}
		n = math.Sqrt(n)
		for i := range u {
			u[i] /= float32(n)
		}
		out[k] = u
	}
	return out
}

// docScore computes a page score from its passage scores (page order) and whole score.
type docScore func(ps []float64, wh float64) float64

// eval ranks pages; cand400 restricts to pages among the 400 best passages (as the db does).
func (sw *sweep) eval(s scored, f docScore, cand400 bool) (float64, float64) {
	ranked := make([][]int, len(sw.qvecs))
	rel := make([][]int, len(sw.qvecs))
	for q := range sw.qvecs {
		rel[q] = []int{sw.qsel[q]}
		var pagesQ []int
		if cand400 {
			seen := map[int]bool{}
			for _, p := range s.top[q] {
				o := s.set.owner[p]
				if !seen[o] {
					seen[o] = true
					pagesQ = append(pagesQ, o)
				}
			}
		} else {
			for i := range sw.docs {
				if len(s.per[q][i]) > 0 {
					pagesQ = append(pagesQ, i)
				}
			}
		}
		sc := make(map[int]float64, len(pagesQ))
		for _, o := range pagesQ {
			ps := s.per[q][o]
			if cand400 {
				// only candidate passages are known
				ps = nil
				for _, p := range s.top[q] {
					if s.set.owner[p] == o {
						ps = append(ps, s.sc[q][p])
					}
				}
			}
			sc[o] = f(ps, s.wh[q][o])
		}
		sort.SliceStable(pagesQ, func(a, b int) bool { return sc[pagesQ[a]] > sc[pagesQ[b]] })
		ranked[q] = pagesQ[:min(100, len(pagesQ))]
	}
	r, err := retrieval.Evaluate(ranked, rel, 10)
	check(err)
	return r.Recall, r.NDCG
}

func maxOf(ps []float64) float64 {
	m := math.Inf(-1)
	for _, x := range ps {
		m = max(m, x)
	}
	return m
}

func topMean(ps []float64, m int) float64 {
	c := append([]float64(nil), ps...)
	sort.Sort(sort.Reverse(sort.Float64Slice(c)))
	c = c[:min(m, len(c))]
	s := 0.0
	for _, x := range c {
		s += x
	}
	return s / float64(len(c))
}

func lse(ps []float64, t float64) float64 {
	m := maxOf(ps)
	s := 0.0
	for _, x := range ps {
		s += math.Exp((x - m) / t)
	}
	return m + t*math.Log(s)
}

func (sw *sweep) report(s scored, label string, f docScore) {
	r, n := sw.eval(s, f, true)
	ra, na := sw.eval(s, f, false)
	fmt.Printf("%-14s %-40s R@10 %.3f nDCG %.3f | all-pages R@10 %.3f nDCG %.3f\n", s.set.name, label, r, n, ra, na)
}

func (sw *sweep) standard(s scored) {
	for _, w := range []float64{0, 0.5, 0.75, 1, 1.25, 1.5, 2} {
		sw.report(s, fmt.Sprintf("max + %.2f·whole", w), func(ps []float64, wh float64) float64 { return maxOf(ps) + w*wh })
	}
}

// evalFull ranks every page by f(q, page).
func (sw *sweep) evalFull(label string, f func(q, page int) float64) {
	ranked := make([][]int, len(sw.qvecs))
	rel := make([][]int, len(sw.qvecs))
	for q := range sw.qvecs {
		rel[q] = []int{sw.qsel[q]}
		idx := make([]int, len(sw.docs))
		sc := make([]float64, len(sw.docs))
		for i := range idx {
			idx[i] = i
			sc[i] = f(q, i)
		}
		sort.SliceStable(idx, func(a, b int) bool { return sc[idx[a]] > sc[idx[b]] })
		ranked[q] = idx[:100]
	}
	r, err := retrieval.Evaluate(ranked, rel, 10)
	check(err)
	fmt.Printf("%-60s R@10 %.3f nDCG %.3f\n", label, r.Recall, r.NDCG)
}

// sectionOf[k] = index (within the page) of the section passage k starts in.
func (sw *sweep) sectionOf(s passageSet) []int {
	out := make([]int, len(s.texts))
	var starts []int
	last := -1
	for k := range s.texts {
		o := s.owner[k]
		if o != last {
			starts = sectionStarts(sw.docs[o])
			last = o
		}
		j := sort.SearchInts(starts, s.start[k]+1) - 1
		out[k] = max(j, 0)
	}
	return out
}

func ident(n int) []int {
	o := make([]int, n)
	for i := range o {
		o[i] = i
	}
	return o
}

func (sw *sweep) run(ctx context.Context, x string) {
	switch x {
	case "chosen":
		// The setting chosen on the dev split, and the one it replaces.
		// (32/4 max+1·whole, the setting it replaces, gave eval R@10 0.793
		// nDCG 0.579 here, as in the rag suite.)
		skipTop = true
		wh := sw.score(ctx, passageSet{name: "whole", texts: sw.docs, owner: ident(len(sw.docs))})
		sw.evalFull("whole pages", func(q, pg int) float64 { return maxOf(wh.per[q][pg]) })
		ps := sw.score(ctx, sw.chunked(16, 8, nil))
		sw.evalFull("16/8 max+1.5·whole (no penalty)", func(q, pg int) float64 { return maxOf(ps.per[q][pg]) + 1.5*ps.wh[q][pg] })
		sw.evalFull("16/8 max-0.04·ln(n)+1.5·whole (chosen)", func(q, pg int) float64 {
			return maxOf(ps.per[q][pg]) - 0.04*math.Log(float64(len(ps.per[q][pg]))) + 1.5*ps.wh[q][pg]
		})
	case "center":
		for _, c := range []int{1, 2} {
			center = c
			for _, so := range sw.sets {
				st := sw.chunked(so[0], so[1], nil)
				st.name += fmt.Sprintf(" c%d", c)
				sw.standard(sw.score(ctx, st))
			}
		}
		center = 0
	case "lenpen":
		for _, so := range sw.sets {
			ps := sw.score(ctx, sw.chunked(so[0], so[1], nil))
			for _, w := range []float64{0.5, 1, 1.5} {
				for _, c := range []float64{0, 0.02, 0.04, 0.06, 0.08} {
					sw.evalFull(fmt.Sprintf("%s max-%.2f·ln(n)+%.2f·whole", ps.set.name, c, w), func(q, pg int) float64 {
						return maxOf(ps.per[q][pg]) - c*math.Log(float64(len(ps.per[q][pg]))) + w*ps.wh[q][pg]
					})
				}
			}
		}
	case "hier":
		sec := sw.score(ctx, sw.sectionSet())
		for _, so := range sw.sets {
			ps := sw.score(ctx, sw.chunked(so[0], so[1], nil))
			secIdx := sw.sectionOf(ps.set)
			// passage k's index in its page's score list is pos[k]
			secOfPage := make([][]int, len(sw.docs))
			for k := range ps.set.texts {
				secOfPage[ps.set.owner[k]] = append(secOfPage[ps.set.owner[k]], secIdx[k])
			}
			name := ps.set.name
			for _, w := range []float64{0.5, 1} {
				for _, a := range []float64{0, 0.25, 0.5, 1} {
					sw.evalFull(fmt.Sprintf("%s max+%.2f·maxsec+%.2f·whole", name, a, w), func(q, pg int) float64 {
						return maxOf(ps.per[q][pg]) + a*maxOf(sec.per[q][pg]) + w*ps.wh[q][pg]
					})
					if a == 0 {
						continue
					}
					sw.evalFull(fmt.Sprintf("%s max(p+%.2f·sec(p))+%.2f·whole", name, a, w), func(q, pg int) float64 {
						m := math.Inf(-1)
						for j, x := range ps.per[q][pg] {
							m = max(m, x+a*sec.per[q][pg][secOfPage[pg][j]])
						}
						return m + w*ps.wh[q][pg]
					})
					sw.evalFull(fmt.Sprintf("%s max(p+%.2f·mean(nb))+%.2f·whole", name, a, w), func(q, pg int) float64 {
						v := ps.per[q][pg]
						m := math.Inf(-1)
						for j, x := range v {
							nb, n := 0.0, 0.0
							if j > 0 {
								nb += v[j-1]
								n++
							}
							if j+1 < len(v) {
								nb += v[j+1]
								n++
							}
							if n > 0 {
								nb /= n
							}
							m = max(m, x+a*nb)
						}
						return m + w*ps.wh[q][pg]
					})
				}
			}
		}
	case "sizes":
		for _, size := range []int{16, 24, 32, 48} {
			sw.standard(sw.score(ctx, sw.chunked(size, size/8, nil)))
		}
	case "overlap":
		for _, size := range []int{16, 24, 32} {
			for _, ov := range []int{0, size / 4, size / 2} {
				sw.standard(sw.score(ctx, sw.chunked(size, ov, nil)))
			}
		}
	case "std":
		for _, so := range sw.sets {
			sw.standard(sw.score(ctx, sw.chunked(so[0], so[1], nil)))
		}
	case "sentences":
		sw.standard(sw.score(ctx, sw.sentenceSet()))
	case "pool":
		for _, so := range sw.sets {
			s := sw.score(ctx, sw.chunked(so[0], so[1], nil))
			for _, w := range []float64{0.5, 1, 1.5} {
				for _, m := range []int{2, 3} {
					sw.report(s, fmt.Sprintf("top%dmean + %.2f·whole", m, w), func(ps []float64, wh float64) float64 { return topMean(ps, m) + w*wh })
				}
				for _, t := range []float64{0.01, 0.02, 0.05} {
					sw.report(s, fmt.Sprintf("lse(T=%.2f) + %.2f·whole", t, w), func(ps []float64, wh float64) float64 { return lse(ps, t) + w*wh })
				}
			}
		}
	}
}
