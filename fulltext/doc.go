// Package fulltext is vecbolt's inverted index for keyword search: text
// analysis (Unicode word segmentation, lower-casing, accent folding, English
// stop words and Snowball stemming), BM25 scoring and top-k retrieval with
// dynamic pruning.
//
// The index lives in a bbolt bucket that the caller hands over, inside the
// caller's transaction: documents, vectors and their index change in one
// transaction of one file, so a crash can never leave them out of step.
// That is why bleve or another engine is not used as the store: their
// indexes live in files of their own, outside the database's transaction.
// (The keyword suite in bench/suite_keyword.go measures this package against
// bleve.)
//
// # Layout
//
// In the caller's bucket:
//
//   - key "meta": format version of the index's layout (2; 1 still
//     reads, see below), number of documents, total length (in terms) of
//     all documents;
//   - bucket "post": for each term t, key t holds the term's record:
//     a 0x00 byte, its document frequency, the upper bound of its term
//     frequencies and the lower bound of its document lengths, then the
//     tail of its posting list, 0 to [BlockSize] postings encoded as a
//     block (below);
//   - bucket "blocks": keys t 0x00 L (L a big-endian uint64 label) hold
//     the other blocks of t's posting list, L being the first label of
//     the block. Terms never contain 0x00, so a term's blocks are adjacent
//     in key order, in term order, and one cursor seek finds the first;
//   - bucket "docs": key L (big-endian) holds the forward record of
//     document L: its length and its distinct terms with their frequencies,
//     which Delete needs to find the postings to remove.
//
// A block holds up to [BlockSize] postings sorted by label: label deltas,
// term frequencies and document lengths as uvarints, after a header with the
// block's first and last labels, its largest term frequency and its smallest
// document length. The header bounds the BM25 score of every posting in the
// block whatever the collection's average length, so a search can skip a
// block without decoding it (block-max pruning) and stays exact. A term's
// tail comes after all its blocks: its labels are above theirs.
//
// Why the tail is in the record: labels mostly grow, so a batch of
// documents appends to the end of each of its terms' lists. With the tail
// in the record, that is one read and one write of one small value per
// term, the new postings appended to the tail's encoding as they are
// (only its header changes); a tail that grows past BlockSize leaves its
// first BlockSize postings as a block of their own, written once. And
// the values a batch rewrites all sit in "post", a few hundred pages for
// ten thousand descriptions, while the blocks, which batches rarely
// touch, sit apart. (Format 1 kept every block, the last and partial one
// too, beside the record in "post": a batch rewrote two values per term
// and most pages of both; ten thousand Debian descriptions in batches of
// 256 wrote 24,724 pages against 15,299 now; see BENCHMARKS.md, "Hybrid
// search (issue 14)".)
//
// Format 1, which vecbolt wrote before (storage format 3 holds either),
// differs in the term record only: its first byte, a document frequency's
// uvarint, is never 0x00, it has no tail, and its blocks are in "post"
// under the same keys, after the record. Readers read both kinds of
// record, side by side in one index. A Writer moves each format-1 term
// it touches to the current layout (its blocks to "blocks", the last one
// into the record) and writes version 2 into "meta", which builds before
// the tails refuse as a version they do not read (db then reports a
// damaged keyword index, which `vecbolt reindex` rebuilds in their
// layout).
//
// # Invariants
//
// Every document added has a forward record, whether or not it has terms,
// and counts in the statistics (as in the bench's reference BM25 in
// bench/internal/retrieval). For every term of a forward record there is
// exactly one posting with the same term frequency and the document's
// length, and no other postings exist. A term record exists iff the term
// has postings; its document frequency equals their number. A term's
// blocks are all in "post" (format-1 record) or all in "blocks" (format-2
// record), they do not overlap, and its tail's labels are above theirs.
// [Reader.Check] verifies all of this.
//
// # Analysis and libraries
//
// Word segmentation is github.com/clipperhouse/uax29/v2 (UAX #29 word
// boundaries), stemming github.com/blevesearch/snowballstem (the Snowball
// English, i.e. Porter2, stemmer, the one bleve uses too), folding
// golang.org/x/text/unicode/norm (NFKD, combining marks dropped). The stop
// words are Snowball's English list, written out in stopwords.go. Written
// here is only the glue: which tokens are words, folding, caching stems
// (per Analyzer, bounded, shared by its writers and searches across
// transactions), and one step past UAX #29: its words are split further
// into runs of letters and digits (UAX #29 keeps "foo.bar", "x86_64" and
// "3.14" whole), which measured better on the Debian development split
// (see splitPart in analyzer.go). Text that is ASCII without NUL, most
// text, skips the UAX #29 iterator and the folding: a byte loop gives the
// same terms (termsASCII in analyzer.go says why; FuzzASCIIFastPath and
// TestASCIIFastPathCorpus check it against the general path) in half the
// time.
//
// # Cost of a transaction
//
// A Flush reads and rewrites the record of every term its documents
// contain, and bbolt rewrites every page it touches, so the cost of a
// transaction grows with the number of distinct terms of its documents,
// not only with their number: bulk loads should add thousands of
// documents per transaction (the keyword suite in bench/suite_keyword.go
// uses 5,000). Analysis needs no transaction: [Analyzer.Analyze] can run
// before it, or beside other work, and [Writer.AddDoc] adds its result;
// nor does grouping a batch's postings by term: [NewBatch] groups analyzed
// documents, and [Writer.AddBatch] writes them term by term.
package fulltext
