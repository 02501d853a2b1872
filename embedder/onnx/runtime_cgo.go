//go:build cgo

package onnx

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/vecbolt/vecbolt/embedder"

	ort "github.com/yalue/onnxruntime_go"
)

// ortProcess guards ONNX Runtime's environment, which onnxruntime_go keeps in
// package-level C state (SetSharedLibraryPath, InitializeEnvironment): the
// library is dlopen'ed once and an OrtEnv exists at most once per process.
// That is why this is the one piece of package-level mutable state in
// embedder: there is no way to own a second, independent runtime, so the
// guard must be as global as the thing it guards. It is never torn down
// (DestroyEnvironment would invalidate sessions owned by other embedders).
var ortProcess ortRuntime

// ortRuntime records which library the process loaded. Unlike sync.Once it
// lets a failed load be retried (the user may install the library and try
// again without restarting).
type ortRuntime struct {
	mu   sync.Mutex
	path string // the library that was loaded; "" until then
}

// ensure loads the runtime if the process has not yet, and returns the path
// of the library in use. optPath is the WithLibraryPath option ("" if unset).
func (r *ortRuntime) ensure(optPath string) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	cands := ortCandidates(optPath)
	if r.path == "" && ort.IsInitialized() {
		// Another package in this process initialized onnxruntime_go itself;
		// its library is the only one we can use.
		r.path = "(initialized outside vecbolt)"
	}
	if r.path != "" {
		if c := cands[0]; c.explicit && canonicalLibPath(c.path) != r.path {
			return "", fmt.Errorf("%w: %s asks for %s but this process already loaded %s; "+
				"use one library per process", ErrRuntimeConflict, c.source, c.path, r.path)
		}
		return r.path, nil
	}
	var tried []string
	for _, c := range cands {
		if c.explicit && strings.ContainsRune(c.path, os.PathSeparator) {
			if _, err := os.Stat(c.path); err != nil {
				return "", fmt.Errorf("%w: %s names %s: %v; %s", ErrNoRuntime, c.source, c.path, err, installHint)
			}
		}
		ort.SetSharedLibraryPath(c.path)
		err := ort.InitializeEnvironment(ort.WithLogLevelError())
		if err == nil {
			r.path = canonicalLibPath(c.path)
			return r.path, nil
		}
		if c.explicit {
			return "", fmt.Errorf("%w: loading %s (from %s): %v; %s", ErrNoRuntime, c.path, c.source, err, installHint)
		}
		tried = append(tried, fmt.Sprintf("%s (%s): %v", c.path, c.source, err))
	}
	return "", fmt.Errorf("%w; tried %s; %s", ErrNoRuntime, strings.Join(tried, "; "), installHint)
}

// FindRuntime loads ONNX Runtime into the process (if not already loaded)
// and returns the library's path, following the same search as Load:
// libPath if non-empty, then $ONNXRUNTIME_LIB, then the vecbolt cache, then
// the system's library paths. Tests use it to skip when no runtime exists.
func FindRuntime(libPath string) (string, error) {
	return ortProcess.ensure(libPath)
}

// ortLibName is the file name the install script writes (the soname of the
// npm package's library).
const ortLibName = "libonnxruntime.so.1"

// installHint is appended to ErrNoRuntime so the user knows the next step.
const installHint = "install it with scripts/install-onnxruntime.sh from the vecbolt repository " +
	"(it runs `npm pack onnxruntime-node@" + ORTVersion + "` and unpacks bin/napi-v6/linux/x64/" + ortLibName +
	" into the vecbolt cache), or set " + EnvORTLib + " to the path of an ONNX Runtime " + ORTVersion + " shared library"

// ortCandidate is one place to look for the library.
type ortCandidate struct {
	path     string // passed to dlopen
	source   string // where it came from, for messages
	explicit bool   // the user asked for exactly this one: no fallback
}

// ortCandidates lists, in order, where to look for the library: the option,
// the environment variable, the vecbolt cache, then the system's library
// search (dlopen with a bare name). An explicit choice (option or environment)
// is the only candidate, so a typo is reported instead of silently loading
// some other copy.
func ortCandidates(optPath string) []ortCandidate {
	if optPath != "" {
		return []ortCandidate{{path: optPath, source: "WithLibraryPath option", explicit: true}}
	}
	if p := os.Getenv(EnvORTLib); p != "" {
		return []ortCandidate{{path: p, source: EnvORTLib + " environment variable", explicit: true}}
	}
	var c []ortCandidate
	if dir, err := embedder.CacheDir(); err == nil {
		p := filepath.Join(dir, "onnxruntime", ORTVersion, ortLibName)
		if _, err := os.Stat(p); err == nil {
			c = append(c, ortCandidate{path: p, source: "vecbolt cache"})
		}
	}
	return append(c,
		ortCandidate{path: "libonnxruntime.so", source: "system library path"},
		ortCandidate{path: ortLibName, source: "system library path"},
	)
}

// canonicalLibPath makes two spellings of the same file compare equal.
func canonicalLibPath(p string) string {
	if !strings.ContainsRune(p, os.PathSeparator) {
		return p // a bare name resolved by dlopen
	}
	if abs, err := filepath.Abs(p); err == nil {
		p = abs
	}
	if real, err := filepath.EvalSymlinks(p); err == nil {
		p = real
	}
	return p
}
