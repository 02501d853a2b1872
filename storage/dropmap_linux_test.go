package storage

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// TestDropMapped: once the file has grown by the store's drop step, the
// next write transaction drops the mapping's resident pages; before that,
// pages read through the mapping stay resident; Tx.ReleaseMapped drops
// them in any transaction. Each case reads 8 MiB of values through the
// mapping and then runs an empty transaction (or ReleaseMapped).
func TestDropMapped(t *testing.T) {
	const (
		values = 128
		size   = 64 << 10
	)
	for _, tc := range []struct {
		name     string
		step     int64
		release  bool
		wantDrop bool
	}{
		{"grown past the step", 1 << 20, false, true},
		{"below the step", 1 << 40, false, false},
		{"released by a reader", 1 << 40, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := openTemp(t)
			s.dropStep = tc.step
			s.dropAt = tc.step
			err := s.update(func(tx *bolt.Tx) error {
				b, err := tx.CreateBucket([]byte("drop"))
				if err != nil {
					return err
				}
				for i := range values {
					v := bytes.Repeat([]byte{byte(i) | 1}, size)
					if err := b.Put(fmt.Appendf(nil, "%04d", i), v); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			var base uintptr
			err = s.view(func(tx *bolt.Tx) error {
				base = mapBase(tx)
				return tx.Bucket([]byte("drop")).ForEach(func(k, v []byte) error {
					if len(v) != size || v[0] == 0 || v[size-1] != v[0] {
						return fmt.Errorf("value %s reads back wrong", k)
					}
					return nil
				})
			})
			if err != nil {
				t.Fatal(err)
			}
			before := mappedRSS(t, base)
			if before < values*size/2 {
				t.Fatalf("%d bytes of the mapping resident after reading %d; the test cannot tell a drop", before, values*size)
			}
			if tc.release {
				err = s.View(func(tx *Tx) error { tx.ReleaseMapped(); return nil })
			} else {
				err = s.update(func(*bolt.Tx) error { return nil })
			}
			if err != nil {
				t.Fatal(err)
			}
			after := mappedRSS(t, base)
			if dropped := after < before/4; dropped != tc.wantDrop {
				t.Errorf("resident bytes of the mapping %d before the write, %d after: dropped %v, want %v", before, after, dropped, tc.wantDrop)
			}
			// Dropped pages read again with the same contents.
			err = s.view(func(tx *bolt.Tx) error {
				return tx.Bucket([]byte("drop")).ForEach(func(k, v []byte) error {
					i, _ := strconv.Atoi(string(k))
					if !bytes.Equal(v, bytes.Repeat([]byte{byte(i) | 1}, size)) {
						return fmt.Errorf("value %s reads back wrong after the drop", k)
					}
					return nil
				})
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// mappedRSS returns the resident bytes of the mapping that starts at base,
// from /proc/self/smaps.
func mappedRSS(t *testing.T, base uintptr) int64 {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Skipf("no smaps: %v", err)
	}
	defer f.Close()
	start := strconv.FormatUint(uint64(base), 16) + "-"
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if fields := strings.Fields(line); len(fields) > 0 && strings.Contains(fields[0], "-") && !strings.HasSuffix(fields[0], ":") {
			in = strings.HasPrefix(line, start)
			continue
		}
		if rest, ok := strings.CutPrefix(line, "Rss:"); ok && in {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				t.Fatalf("smaps line %q: %v", line, err)
			}
			return kb << 10
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	t.Fatalf("no mapping at %#x in /proc/self/smaps", base)
	return 0
}
