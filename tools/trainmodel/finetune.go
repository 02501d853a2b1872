package main

import (
	"math"
	"math/rand/v2"
	"strings"

	"github.com/vecbolt/vecbolt/embedder"
	"github.com/vecbolt/vecbolt/internal/evalsets"
)

// ftParams configures the contrastive fine-tuning stage.
type ftParams struct {
	Epochs   int     `json:"epochs"`
	Batch    int     `json:"batch"`
	LR       float64 `json:"adagrad_lr"`
	Scale    float64 `json:"similarity_scale"`
	MaxLen   int     `json:"max_tokens_per_text"`
	WNLemmas int     `json:"wordnet_lemmas_per_synset"`
	HardNeg  bool    `json:"wordnet_hard_negatives"`
}

// ftPair is a (query, positive document) pair as token ids, with an
// optional hard negative document h.
type ftPair struct{ q, d, h []int32 }

// trainingPairs collects the pairs for fine-tuning, from training data only:
// Debian one-line → long description for sources outside the evaluation
// split, and WordNet lemma → definition for synsets not held out (up to
// WNLemmas lemmas per synset, each in its own epoch slot).
func trainingPairs(root string, wn *wordNet, tok *embedder.Tokenizer, p ftParams) ([][]ftPair, error) {
	ids := func(s string) []int32 {
		out := tok.AppendIDs(nil, s)
		k := 0
		for _, id := range out {
			if id >= int32(len(specialTokens)) {
				out[k] = id
				k++
			}
		}
		return out[:min(k, p.MaxLen)]
	}
	pkgs, err := evalsets.LoadPackages(debianLists(root))
	if err != nil {
		return nil, err
	}
	var deb []ftPair
	seenQ, seenD := map[string]bool{}, map[string]bool{}
	for _, pk := range pkgs {
		if evalsets.EvalSplit(pk.Source) || len(strings.Fields(pk.Long)) < 5 || seenQ[pk.Short] || seenD[pk.Long] {
			continue
		}
		seenQ[pk.Short], seenD[pk.Long] = true, true
		q, d := ids(pk.Short), ids(pk.Long)
		if len(q) > 0 && len(d) > 0 {
			deb = append(deb, ftPair{q: q, d: d})
		}
	}
	// Hard negatives for lemma queries: a definition (of another synset
	// not held out) that uses the lemma as a word. A bag-of-tokens model
	// otherwise ranks the definitions that mention a word above the one
	// that defines it.
	var defs []string
	using := map[string][]int{}
	if p.HardNeg {
		for _, s := range wn.Synsets {
			if s.HeldOut || s.Def == "" {
				continue
			}
			seen := map[string]bool{}
			for _, w := range evalsets.Terms(s.Def) {
				if !seen[w] {
					seen[w] = true
					using[w] = append(using[w], len(defs))
				}
			}
			defs = append(defs, s.Def)
		}
	}
	rng := rand.New(rand.NewPCG(7, 7))
	// One list per lemma slot: slot k holds the k-th lemma of each synset,
	// so one epoch never pairs two lemmas with the same definition.
	slots := make([][]ftPair, p.WNLemmas)
	for _, s := range wn.Synsets {
		if s.HeldOut || s.Def == "" {
			continue
		}
		d := ids(s.Def)
		if len(d) == 0 {
			continue
		}
		for k := 0; k < p.WNLemmas && k < len(s.Lemmas); k++ {
			q := ids(s.Lemmas[k])
			if len(q) == 0 {
				continue
			}
			pr := ftPair{q: q, d: d}
			if u := using[s.Lemmas[k]]; len(u) > 0 {
				if h := defs[u[rng.IntN(len(u))]]; h != s.Def {
					pr.h = ids(h)
				}
			}
			slots[k] = append(slots[k], pr)
		}
	}
	return append([][]ftPair{deb}, slots...), nil
}

// finetune trains the token vectors (whose norms act as pooling weights)
// with an in-batch-negatives contrastive loss (symmetric InfoNCE on cosine
// similarity × scale), the objective of sentence-transformers'
// MultipleNegativesRankingLoss, with Adagrad on the touched rows. It is
// single-threaded and seeded, so deterministic.
func finetune(emb []float32, dim int, groups [][]ftPair, p ftParams, seed uint64, logf func(string, ...any)) {
	n := len(emb) / dim
	rng := rand.New(rand.NewPCG(seed, seed^0xf17e))
	acc := make([]float32, len(emb))
	grad := make([]float32, len(emb))
	touched := make([]bool, n)
	var touchedList []int32
	B := p.Batch
	qs := make([]float32, B*dim)
	maxDocs := 2 * B // positives and at most one hard negative each
	ds := make([]float32, maxDocs*dim)
	qn := make([]float64, B)
	dn := make([]float64, maxDocs)
	sim := make([]float64, B*maxDocs)
	dS := make([]float64, B*maxDocs)
	gq := make([]float32, B*dim)
	gd := make([]float32, maxDocs*dim)
	docs := make([][]int32, 0, maxDocs)
	pool := func(ids []int32, out []float32) float64 {
		clear(out)
		for _, id := range ids {
			r := emb[int(id)*dim : int(id)*dim+dim]
			for j, v := range r {
				out[j] += v
			}
		}
		var s float64
		for _, v := range out {
			s += float64(v) * float64(v)
		}
		s = math.Sqrt(s)
		if s < 1e-9 {
			s = 1e-9
		}
		for j := range out {
			out[j] = float32(float64(out[j]) / s)
		}
		return s
	}
	// back propagates the gradient g of a normalized pooled vector u (norm
	// nrm before normalization) into the rows of its tokens.
	back := func(ids []int32, u, g []float32, nrm float64) {
		var ug float64
		for j := range u {
			ug += float64(u[j]) * float64(g[j])
		}
		for _, id := range ids {
			if !touched[id] {
				touched[id] = true
				touchedList = append(touchedList, id)
			}
			r := grad[int(id)*dim : int(id)*dim+dim]
			for j := range r {
				r[j] += float32((float64(g[j]) - float64(u[j])*ug) / nrm)
			}
		}
	}
	for ep := range p.Epochs {
		// Debian pairs every epoch; WordNet lemma slots in turn.
		var pairs []ftPair
		pairs = append(pairs, groups[0]...)
		if len(groups) > 1 {
			pairs = append(pairs, groups[1+ep%(len(groups)-1)]...)
		}
		rng.Shuffle(len(pairs), func(i, j int) { pairs[i], pairs[j] = pairs[j], pairs[i] })
		var lossSum float64
		var correct, seen int
		for b := 0; b+B <= len(pairs); b += B {
			batch := pairs[b : b+B]
			// Documents: the B positives, then the batch's hard negatives.
			docs = docs[:0]
			for _, pr := range batch {
				docs = append(docs, pr.d)
			}
			for _, pr := range batch {
				if pr.h != nil {
					docs = append(docs, pr.h)
				}
			}
			M := len(docs)
			for i, pr := range batch {
				qn[i] = pool(pr.q, qs[i*dim:(i+1)*dim])
			}
			for k, d := range docs {
				dn[k] = pool(d, ds[k*dim:(k+1)*dim])
			}
			for i := range B {
				qi := qs[i*dim : (i+1)*dim]
				for k := range M {
					dk := ds[k*dim : (k+1)*dim]
					var s float32
					for j, v := range qi {
						s += v * dk[j]
					}
					sim[i*M+k] = p.Scale * float64(s)
				}
			}
			// dS = (softmax over all documents per query - I) +
			// (softmax over the queries per positive document - I).
			clear(dS[:B*M])
			for i := range B {
				row := sim[i*M : (i+1)*M]
				mx := math.Inf(-1)
				arg := 0
				for k, v := range row {
					if v > mx {
						mx, arg = v, k
					}
				}
				if arg == i {
					correct++
				}
				seen++
				var z float64
				for _, v := range row {
					z += math.Exp(v - mx)
				}
				lossSum += -(row[i] - mx - math.Log(z))
				for k, v := range row {
					dS[i*M+k] += math.Exp(v-mx) / z
				}
				dS[i*M+i]--
			}
			for k := range B {
				mx := math.Inf(-1)
				for i := range B {
					mx = math.Max(mx, sim[i*M+k])
				}
				var z float64
				for i := range B {
					z += math.Exp(sim[i*M+k] - mx)
				}
				lossSum += -(sim[k*M+k] - mx - math.Log(z))
				for i := range B {
					dS[i*M+k] += math.Exp(sim[i*M+k]-mx) / z
				}
				dS[k*M+k]--
			}
			clear(gq)
			clear(gd[:M*dim])
			f := p.Scale / float64(B)
			for i := range B {
				for k := range M {
					g := float32(dS[i*M+k] * f)
					if g == 0 {
						continue
					}
					qi, dk := qs[i*dim:(i+1)*dim], ds[k*dim:(k+1)*dim]
					gqi, gdk := gq[i*dim:(i+1)*dim], gd[k*dim:(k+1)*dim]
					for j := range dim {
						gqi[j] += g * dk[j]
						gdk[j] += g * qi[j]
					}
				}
			}
			for i, pr := range batch {
				back(pr.q, qs[i*dim:(i+1)*dim], gq[i*dim:(i+1)*dim], qn[i])
			}
			for k, d := range docs {
				back(d, ds[k*dim:(k+1)*dim], gd[k*dim:(k+1)*dim], dn[k])
			}
			lr := float32(p.LR)
			for _, id := range touchedList {
				off := int(id) * dim
				for j := off; j < off+dim; j++ {
					g := grad[j]
					acc[j] += g * g
					emb[j] -= lr * g / (float32(math.Sqrt(float64(acc[j]))) + 1e-8)
					grad[j] = 0
				}
				touched[id] = false
			}
			touchedList = touchedList[:0]
		}
		logf("fine-tune epoch %d: %d pairs, loss %.4f, in-batch accuracy %.3f", ep+1, len(pairs), lossSum/float64(2*seen), float64(correct)/float64(seen))
	}
}
