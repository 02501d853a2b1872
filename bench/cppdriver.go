package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// cppDriver is a small C++ program that runs a peer library (hnswlib,
// FAISS) on the bench's fvecs/ivecs files. Its source is embedded in the
// bench; it is compiled into the cache once per source and compiler flags,
// so a changed driver is rebuilt and an unchanged one is not.
type cppDriver struct {
	// name is the driver's cache subdirectory and its name in errors.
	name string
	src  []byte
	// flags go before the source on g++'s command line, libs after it
	// (static libraries need their dependencies after them).
	flags, libs []string
	// needs names what to install when compiling fails.
	needs string
}

// Driver definitions shared by the suites that run them.
var (
	hnswlibCpp = cppDriver{name: "hnswlib-driver", src: hnswlibDriver,
		flags: []string{"-O3", "-march=native", "-std=c++17", "-pthread"}, needs: "libhnswlib-dev"}
	// Debian's libfaiss-dev ships a static library: its BLAS and LAPACK
	// calls are resolved here (libopenblas-pthread-dev gives them
	// OpenBLAS, as a FAISS user would have it).
	faissFlags     = []string{"-O3", "-march=native", "-std=c++17", "-fopenmp"}
	faissLibs      = []string{"-lfaiss", "-lblas", "-llapack"}
	faissKMeansCpp = cppDriver{name: "faisskmeans-driver", src: faissKMeansDriver, flags: faissFlags, libs: faissLibs, needs: "libfaiss-dev"}
	faissANNCpp    = cppDriver{name: "faissann-driver", src: faissANNDriver, flags: faissFlags, libs: faissLibs, needs: "libfaiss-dev"}
)

// driverBinary compiles d into the cache (unless this version is there
// already) and returns the binary's path. Without g++ or the library the
// error says what is missing; callers leave the peer out with that reason.
func (b *bench) driverBinary(ctx context.Context, d cppDriver) (string, error) {
	gxx, err := exec.LookPath("g++")
	if err != nil {
		return "", fmt.Errorf("no g++ (scripts/install-bench-peers.sh installs it): %w", err)
	}
	h := sha256.New()
	h.Write(d.src)
	h.Write([]byte(strings.Join(d.flags, " ") + "\x00" + strings.Join(d.libs, " ")))
	dir := filepath.Join(b.cfg.cache, d.name)
	bin := filepath.Join(dir, "driver-"+hex.EncodeToString(h.Sum(nil)[:6]))
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	src := bin + ".cpp"
	if err := os.WriteFile(src, d.src, 0o644); err != nil {
		return "", err
	}
	var out bytes.Buffer
	// A temporary name then a rename: a binary under the final name is
	// always complete, even when two runs compile at once.
	tmp := fmt.Sprintf("%s.tmp%d", bin, os.Getpid())
	args := append(append(append([]string{}, d.flags...), "-o", tmp, src), d.libs...)
	cmd := exec.CommandContext(ctx, gxx, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("compiling the %s (is %s installed? scripts/install-bench-peers.sh installs it): %w: %s", d.name, d.needs, err, firstLine(out.String()))
	}
	if err := os.Rename(tmp, bin); err != nil {
		return "", err
	}
	return bin, nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

// runDriverLines runs a driver whose output is one JSON object per line
// and decodes every line into a T. The error carries the first line the
// driver wrote to stderr.
func runDriverLines[T any](cmd *exec.Cmd, name string) ([]T, error) {
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %s", name, err, firstLine(stderr.String()))
	}
	var lines []T
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		var l T
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return nil, fmt.Errorf("%s output %q: %w", name, sc.Text(), err)
		}
		lines = append(lines, l)
	}
	return lines, sc.Err()
}
