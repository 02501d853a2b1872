package main

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/vecbolt/vecbolt/embedder/tokenizer"

	"github.com/vecbolt/vecbolt/embedder/builtin"
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
	// HardNegN is how many definitions using the lemma are drawn (with
	// replacement) as hard negatives of each WordNet query.
	HardNegN int `json:"wordnet_hard_negatives_per_query"`
	// QueryRows is how many tokens (the most frequent in one-word training
	// queries) get a query-side row of their own, used for one-word
	// queries only; 0 trains one shared table.
	QueryRows int `json:"query_rows"`
	// Transform learns a dim × dim matrix W applied to every pooled query
	// vector (q = W·u / |W·u|), shared by all tokens so that what it learns
	// from training lemmas carries over to words never seen as queries.
	Transform   bool    `json:"query_transform"`
	TransformLR float64 `json:"query_transform_adagrad_lr"`
	// PieceQueries adds, for each WordNet lemma query that is one
	// vocabulary word, a second query made of the word pieces the word
	// would split into were it not in the vocabulary. Rare words (most
	// held-out queries) reach the model only through such pieces; their
	// query rows otherwise learn only from the few rare training lemmas.
	// Off: no gain on the development set (package doc).
	PieceQueries bool `json:"wordnet_piece_queries"`
	// PieceMinLen is the shortest word (in bytes) given a piece query.
	PieceMinLen int `json:"wordnet_piece_query_min_len"`
	// QueryDecay pulls a query row back towards its starting (shared)
	// row by this fraction after each update, so the senses a word is
	// trained on do not pull it away from senses it was never trained on.
	// Off: it pulls the row back towards the definitions that contain the
	// word, and scored lower on the development set (package doc).
	QueryDecay float64 `json:"query_row_decay"`
	// OneWordScale, when not 0, replaces Scale for one-word queries: a
	// softer temperature keeps a word's query row from committing to the
	// few definitions it is trained on (its other senses, and synsets it
	// never sees, must stay reachable), while multi-word queries keep the
	// sharp one that exact matching needs.
	OneWordScale float64 `json:"one_word_similarity_scale"`
}

// applyTransform sets out = W·u / |W·u| and returns |W·u|.
func applyTransform(w []float32, dim int, u, out []float32) float64 {
	var s float64
	for a := range dim {
		row := w[a*dim : (a+1)*dim]
		var z float32
		for b, x := range u {
			z += row[b] * x
		}
		out[a] = z
		s += float64(z) * float64(z)
	}
	s = math.Sqrt(s)
	if s < 1e-9 {
		s = 1e-9
	}
	for a := range out {
		out[a] = float32(float64(out[a]) / s)
	}
	return s
}

// ftPair is a (query, positive document) pair as token ids, with an
// optional hard negative document h.
// oneWord marks a query the model embeds with its query rows (see
// builtin.OneWord).
type ftPair struct {
	q, d    []int32
	h       [][]int32 // hard negatives
	oneWord bool
}

// trainingPairs collects the pairs for fine-tuning, from training data only:
// Debian one-line → long description for sources outside the evaluation
// split, and WordNet lemma → definition for synsets not held out (up to
// WNLemmas lemmas per synset, each in its own epoch slot).
func trainingPairs(root string, wn *wordNet, tok *tokenizer.Tokenizer, p ftParams) ([][]ftPair, error) {
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
		if evalsets.Reserved(pk.Source) || len(strings.Fields(pk.Long)) < 5 || seenQ[pk.Short] || seenD[pk.Long] {
			continue
		}
		seenQ[pk.Short], seenD[pk.Long] = true, true
		q, d := ids(pk.Short), ids(pk.Long)
		if len(q) > 0 && len(d) > 0 {
			deb = append(deb, ftPair{q: q, d: d, oneWord: builtin.OneWord(pk.Short)})
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
			if s.Reserved() || s.Def == "" {
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
		if s.Reserved() || s.Def == "" {
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
			pr := ftPair{q: q, d: d, oneWord: builtin.OneWord(s.Lemmas[k])}
			if u := using[s.Lemmas[k]]; len(u) > 0 {
				for range max(p.HardNegN, 1) {
					if h := defs[u[rng.IntN(len(u))]]; h != s.Def {
						pr.h = append(pr.h, ids(h))
					}
				}
			}
			slots[k] = append(slots[k], pr)
			if p.PieceQueries && len(q) == 1 && pr.oneWord && len(s.Lemmas[k]) >= p.PieceMinLen {
				if pieces := splitWithoutWord(tok, s.Lemmas[k]); len(pieces) > 1 {
					pp := pr
					pp.q = pieces
					slots[k] = append(slots[k], pp)
				}
			}
		}
	}
	return append([][]ftPair{deb}, slots...), nil
}

// splitWithoutWord segments an ASCII word as the tokenizer's greedy
// longest-match WordPiece would if the word itself were not in the
// vocabulary; nil if some part matches no piece.
func splitWithoutWord(tok *tokenizer.Tokenizer, w string) []int32 {
	for i := range len(w) {
		if w[i] >= 0x80 {
			return nil
		}
	}
	var out []int32
	for start := 0; start < len(w); {
		end := len(w)
		if start == 0 {
			end-- // never the whole word
		}
		found := false
		for ; end > start; end-- {
			piece := w[start:end]
			if start > 0 {
				piece = "##" + piece
			}
			if id, ok := tok.TokenID(piece); ok {
				out = append(out, id)
				found = true
				break
			}
		}
		if !found {
			return nil
		}
		start = end
	}
	return out
}

// finetune trains the token vectors (whose norms act as pooling weights)
// with an in-batch-negatives contrastive loss (symmetric InfoNCE on cosine
// similarity × scale), the objective of sentence-transformers'
// MultipleNegativesRankingLoss, with Adagrad on the touched rows. It is
// single-threaded and seeded, so deterministic.
//
// With p.QueryRows > 0 the most frequent query tokens get a second row,
// initialized from the shared one and trained by the query side only; it
// returns those token ids and rows (the rest of the query side is the
// shared table).
func finetune(emb []float32, dim int, groups [][]ftPair, p ftParams, seed uint64, logf func(string, ...any)) (qids []int32, qemb, transform []float32) {
	n := len(emb) / dim
	rng := rand.New(rand.NewPCG(seed, seed^0xf17e))
	qids = queryTokens(groups, n, p.QueryRows)
	if len(qids) > 0 {
		logf("query rows: %d tokens", len(qids))
	}
	// Rows n.. of the working table are the query rows; qrow maps a token
	// to the row the query side uses.
	qrow := make([]int32, n)
	for i := range qrow {
		qrow[i] = int32(i)
	}
	work := make([]float32, (n+len(qids))*dim)
	copy(work, emb)
	for k, id := range qids {
		qrow[id] = int32(n + k)
		copy(work[(n+k)*dim:(n+k+1)*dim], emb[int(id)*dim:int(id)*dim+dim])
	}
	shared := emb
	emb = work
	qinit := slices.Clone(work[n*dim:])
	defer func() {
		copy(shared, work[:n*dim])
		qemb = work[n*dim:]
	}()
	// Queries index the working table through qrow, so pooling and
	// back-propagation below need not know about the two sides.
	if len(qids) > 0 {
		for _, g := range groups {
			for i := range g {
				if !g[i].oneWord {
					continue
				}
				q := slices.Clone(g[i].q)
				for j, id := range q {
					q[j] = qrow[id]
				}
				g[i].q = q
			}
		}
	}
	acc := make([]float32, len(emb))
	grad := make([]float32, len(emb))
	touched := make([]bool, n+len(qids))
	var touchedList []int32
	B := p.Batch
	qs := make([]float32, B*dim)
	maxDocs := (1 + max(p.HardNegN, 1)) * B // positives and their hard negatives
	ds := make([]float32, maxDocs*dim)
	qn := make([]float64, B)
	dn := make([]float64, maxDocs)
	sim := make([]float64, B*maxDocs)
	dS := make([]float64, B*maxDocs)
	gq := make([]float32, B*dim)
	gd := make([]float32, maxDocs*dim)
	docs := make([][]int32, 0, maxDocs)
	// The optional query transform W (dim × dim, row-major), from the
	// identity.
	var tw, twAcc, twGrad, qu, gz, gu []float32
	var qzn []float64
	if p.Transform {
		tw = make([]float32, dim*dim)
		for a := range dim {
			tw[a*dim+a] = 1
		}
		twAcc, twGrad = make([]float32, dim*dim), make([]float32, dim*dim)
		qu, gz, gu = make([]float32, B*dim), make([]float32, dim), make([]float32, dim)
		qzn = make([]float64, B)
	}
	defer func() { transform = tw }()
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
	scale := func(pr ftPair) float64 {
		if pr.oneWord && p.OneWordScale != 0 {
			return p.OneWordScale
		}
		return p.Scale
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
				docs = append(docs, pr.h...)
			}
			M := len(docs)
			for i, pr := range batch {
				qn[i] = pool(pr.q, qs[i*dim:(i+1)*dim])
				if tw != nil {
					// Keep the pooled u for back-propagation; the query
					// vector becomes W·u, normalized.
					copy(qu[i*dim:(i+1)*dim], qs[i*dim:(i+1)*dim])
					qzn[i] = applyTransform(tw, dim, qu[i*dim:(i+1)*dim], qs[i*dim:(i+1)*dim])
				}
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
					sim[i*M+k] = scale(batch[i]) * float64(s)
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
			for i := range B {
				f := scale(batch[i]) / float64(B)
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
				if tw == nil {
					back(pr.q, qs[i*dim:(i+1)*dim], gq[i*dim:(i+1)*dim], qn[i])
					continue
				}
				// Through the normalization of z = W·u: g_z = (g − q(q·g))/|z|;
				// then ∂W += g_z uᵀ and g_u = Wᵀ g_z.
				qv, g, u := qs[i*dim:(i+1)*dim], gq[i*dim:(i+1)*dim], qu[i*dim:(i+1)*dim]
				var qg float64
				for j := range qv {
					qg += float64(qv[j]) * float64(g[j])
				}
				for j := range gz {
					gz[j] = float32((float64(g[j]) - float64(qv[j])*qg) / qzn[i])
				}
				clear(gu)
				for a := range dim {
					ga := gz[a]
					if ga == 0 {
						continue
					}
					row := tw[a*dim : (a+1)*dim]
					grow := twGrad[a*dim : (a+1)*dim]
					for b := range dim {
						grow[b] += ga * u[b]
						gu[b] += ga * row[b]
					}
				}
				back(pr.q, u, gu, qn[i])
			}
			if tw != nil {
				lr := float32(p.TransformLR)
				for j, g := range twGrad {
					twAcc[j] += g * g
					tw[j] -= lr * g / (float32(math.Sqrt(float64(twAcc[j]))) + 1e-8)
					twGrad[j] = 0
				}
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
				if p.QueryDecay > 0 && int(id) >= n {
					d := float32(p.QueryDecay)
					r0 := qinit[(int(id)-n)*dim : (int(id)-n+1)*dim]
					for j, x := range r0 {
						emb[off+j] -= d * (emb[off+j] - x)
					}
				}
				touched[id] = false
			}
			touchedList = touchedList[:0]
		}
		logf("fine-tune epoch %d: %d pairs, loss %.4f, in-batch accuracy %.3f", ep+1, len(pairs), lossSum/float64(2*seen), float64(correct)/float64(seen))
	}
	return qids, nil, nil // qemb and transform are set by deferred functions
}

// queryTokens picks the k tokens that occur most often in the training
// queries (ties by id), in id order: the ones worth a query-side row.
func queryTokens(groups [][]ftPair, n, k int) []int32 {
	if k <= 0 {
		return nil
	}
	count := make([]int, n)
	for _, g := range groups {
		for _, pr := range g {
			if !pr.oneWord {
				continue
			}
			for _, id := range pr.q {
				count[id]++
			}
		}
	}
	ids := make([]int32, 0, n)
	for i, c := range count {
		if c > 0 && i >= len(specialTokens) {
			ids = append(ids, int32(i))
		}
	}
	slices.SortStableFunc(ids, func(a, b int32) int { return cmp.Compare(count[b], count[a]) })
	ids = ids[:min(k, len(ids))]
	slices.Sort(ids)
	return ids
}
