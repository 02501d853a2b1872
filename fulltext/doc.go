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
//   - key "meta": format version, number of documents, total length (in
//     terms) of all documents;
//   - bucket "post": for each term t, key t holds the term's record
//     (document frequency and upper bounds of its term frequencies and
//     lower bound of its document lengths), and keys t 0x00 L (L a
//     big-endian uint64 label) hold the blocks of its posting list, L being
//     the first label of the block. Terms never contain 0x00, so the term
//     record and its blocks are adjacent in key order and one cursor seek
//     finds both;
//   - bucket "docs": key L (big-endian) holds the forward record of
//     document L: its length and its distinct terms with their frequencies,
//     which Delete needs to find the postings to remove.
//
// A block holds up to [BlockSize] postings sorted by label: label deltas,
// term frequencies and document lengths as uvarints, after a header with the
// block's first and last labels, its largest term frequency and its smallest
// document length. The header bounds the BM25 score of every posting in the
// block whatever the collection's average length, so a search can skip a
// block without decoding it (block-max pruning) and stays exact.
//
// # Invariants
//
// Every document added has a forward record, whether or not it has terms,
// and counts in the statistics (as in the bench's reference BM25 in
// bench/internal/retrieval). For every term of a forward record there is
// exactly one posting with the same term frequency and the document's
// length, and no other postings exist. A term record exists iff the term
// has postings; its document frequency equals their number. [Reader.Check]
// verifies all of this.
//
// # Analysis and libraries
//
// Word segmentation is github.com/clipperhouse/uax29/v2 (UAX #29 word
// boundaries), stemming github.com/blevesearch/snowballstem (the Snowball
// English, i.e. Porter2, stemmer, the one bleve uses too), folding
// golang.org/x/text/unicode/norm (NFKD, combining marks dropped). The stop
// words are Snowball's English list, written out in stopwords.go. Written
// here is only the glue: which tokens are words, folding, caching stems
// while indexing, and one step past UAX #29: its words are split further
// into runs of letters and digits (UAX #29 keeps "foo.bar", "x86_64" and
// "3.14" whole), which measured better on the Debian development split
// (see splitPart in analyzer.go).
//
// # Cost of a transaction
//
// A Flush rewrites the last block of every term its documents contain,
// and bbolt rewrites every page it touches, so the cost of a transaction
// grows with the number of distinct terms of its documents, not only with
// their number: bulk loads should add thousands of documents per
// transaction (the keyword suite in bench/suite_keyword.go uses 5,000).
package fulltext
