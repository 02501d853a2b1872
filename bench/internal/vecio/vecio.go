// Package vecio reads and writes the fvecs and ivecs files used by the ANN
// benchmarking community (the TEXMEX/ann-benchmarks formats), so the bench's
// data sets and ground truth can be fed to other libraries unchanged.
//
// Both formats are a sequence of records, each a little-endian int32
// dimension d followed by d little-endian float32 (fvecs) or int32 (ivecs)
// values. A file holds one matrix, so every record must have the same d.
//
// The readers validate as they go: a non-positive or oversized dimension, a
// record whose dimension differs from the first, a truncated record, NaN/Inf
// components (fvecs) and negative ids (ivecs) are errors wrapping ErrFormat
// that name the record. They allocate a row only after its bytes have been
// read, so a corrupt header cannot make them reserve gigabytes.
//
// Written here rather than taken from a library because no Go module on the
// proxy offers a validating reader for these formats, and the format is a
// few lines.
package vecio

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
)

// ErrFormat reports malformed fvecs/ivecs input.
var ErrFormat = errors.New("vecio: malformed vector file")

// MaxDim bounds the dimension a reader accepts. Real data sets stay far below
// it; a larger value is far more likely to be garbage than a vector.
const MaxDim = 1 << 16

// Options bound a read.
type Options struct {
	// MaxRows stops reading after this many records (0 = all).
	MaxRows int
	// WantDim, when non-zero, requires every record to have this dimension.
	WantDim int
}

// ReadFvecs reads an fvecs stream into a row-major matrix. It returns the
// rows and the dimension (0 for an empty stream).
func ReadFvecs(r io.Reader, opt Options) ([][]float32, int, error) {
	var rows [][]float32
	dim, err := readRecords(r, opt, func(rec int, payload []byte, d int) error {
		row := make([]float32, d)
		for i := range row {
			v := math.Float32frombits(binary.LittleEndian.Uint32(payload[4*i:]))
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return fmt.Errorf("%w: record %d component %d is %v", ErrFormat, rec, i, v)
			}
			row[i] = v
		}
		rows = append(rows, row)
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	return rows, dim, nil
}

// ReadIvecs reads an ivecs stream. Values must be non-negative (they are
// neighbour ids in every use of the format).
func ReadIvecs(r io.Reader, opt Options) ([][]int32, int, error) {
	var rows [][]int32
	dim, err := readRecords(r, opt, func(rec int, payload []byte, d int) error {
		row := make([]int32, d)
		for i := range row {
			v := int32(binary.LittleEndian.Uint32(payload[4*i:]))
			if v < 0 {
				return fmt.Errorf("%w: record %d component %d is negative (%d)", ErrFormat, rec, i, v)
			}
			row[i] = v
		}
		rows = append(rows, row)
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	return rows, dim, nil
}

func readRecords(r io.Reader, opt Options, emit func(rec int, payload []byte, d int) error) (int, error) {
	if opt.MaxRows < 0 {
		return 0, fmt.Errorf("vecio: MaxRows %d must not be negative", opt.MaxRows)
	}
	if opt.WantDim < 0 || opt.WantDim > MaxDim {
		return 0, fmt.Errorf("vecio: WantDim %d out of range 0..%d", opt.WantDim, MaxDim)
	}
	br := bufio.NewReaderSize(r, 1<<20)
	dim := opt.WantDim
	var hdr [4]byte
	var payload []byte
	for rec := 0; opt.MaxRows == 0 || rec < opt.MaxRows; rec++ {
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			if err == io.EOF {
				break
			}
			return 0, fmt.Errorf("%w: record %d: truncated dimension header", ErrFormat, rec)
		}
		d := int(int32(binary.LittleEndian.Uint32(hdr[:])))
		if d <= 0 || d > MaxDim {
			return 0, fmt.Errorf("%w: record %d has dimension %d (want 1..%d)", ErrFormat, rec, d, MaxDim)
		}
		if dim == 0 {
			dim = d
		} else if d != dim {
			return 0, fmt.Errorf("%w: record %d has dimension %d, want %d", ErrFormat, rec, d, dim)
		}
		if cap(payload) < 4*d {
			payload = make([]byte, 4*d)
		}
		payload = payload[:4*d]
		if _, err := io.ReadFull(br, payload); err != nil {
			return 0, fmt.Errorf("%w: record %d: truncated after its header (want %d bytes): %w", ErrFormat, rec, 4*d, err)
		}
		if err := emit(rec, payload, d); err != nil {
			return 0, err
		}
	}
	return dim, nil
}

// WriteFvecs writes rows as fvecs. All rows must have the same, positive
// length.
func WriteFvecs(w io.Writer, rows [][]float32) error {
	return writeRecords(w, len(rows), func(i int) int { return len(rows[i]) }, func(buf []byte, i int) {
		for j, v := range rows[i] {
			binary.LittleEndian.PutUint32(buf[4*j:], math.Float32bits(v))
		}
	})
}

// WriteIvecs writes rows as ivecs. All rows must have the same, positive
// length.
func WriteIvecs(w io.Writer, rows [][]int32) error {
	return writeRecords(w, len(rows), func(i int) int { return len(rows[i]) }, func(buf []byte, i int) {
		for j, v := range rows[i] {
			binary.LittleEndian.PutUint32(buf[4*j:], uint32(v))
		}
	})
}

func writeRecords(w io.Writer, n int, length func(int) int, fill func([]byte, int)) error {
	if n == 0 {
		return nil
	}
	dim := length(0)
	if dim <= 0 || dim > MaxDim {
		return fmt.Errorf("vecio: cannot write dimension %d (want 1..%d)", dim, MaxDim)
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	buf := make([]byte, 4+4*dim)
	binary.LittleEndian.PutUint32(buf, uint32(dim))
	for i := range n {
		if l := length(i); l != dim {
			return fmt.Errorf("vecio: row %d has length %d, want %d", i, l, dim)
		}
		fill(buf[4:], i)
		if _, err := bw.Write(buf); err != nil {
			return fmt.Errorf("vecio: write row %d: %w", i, err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("vecio: flush: %w", err)
	}
	return nil
}

// WriteFileAtomic writes a file through a temporary name in the same
// directory and renames it into place, so an interrupted run never leaves a
// half-written data set that a later run would trust.
func WriteFileAtomic(path string, write func(io.Writer) error) (err error) {
	tmp, err := os.CreateTemp(dirOf(path), ".tmp-*")
	if err != nil {
		return fmt.Errorf("vecio: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err = write(tmp); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("vecio: close %s: %w", tmp.Name(), err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("vecio: %w", err)
	}
	return nil
}

func dirOf(path string) string {
	for i := len(path) - 1; i >= 0; i-- {
		if path[i] == '/' || path[i] == os.PathSeparator {
			return path[:i+1]
		}
	}
	return "."
}

// ReadFvecsFile opens and reads an fvecs file.
func ReadFvecsFile(path string, opt Options) ([][]float32, int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, fmt.Errorf("vecio: %w", err)
	}
	defer f.Close()
	rows, d, err := ReadFvecs(f, opt)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", path, err)
	}
	return rows, d, nil
}

// ReadIvecsFile opens and reads an ivecs file.
func ReadIvecsFile(path string, opt Options) ([][]int32, int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, fmt.Errorf("vecio: %w", err)
	}
	defer f.Close()
	rows, d, err := ReadIvecs(f, opt)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", path, err)
	}
	return rows, d, nil
}
