package evalsets

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
)

// ReadSections reads a Packages list and returns binary package → its
// Section field ("libs", "python", ...). A component prefix such as
// "contrib/" is kept: it is part of the section's name in the archive.
func ReadSections(r io.Reader) (map[string]string, error) {
	out := map[string]string{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	var cur string
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "Package: "):
			cur = strings.TrimSpace(line[len("Package: "):])
		case strings.HasPrefix(line, "Section: ") && cur != "":
			if _, ok := out[cur]; !ok {
				out[cur] = strings.TrimSpace(line[len("Section: "):])
			}
		case line == "":
			cur = ""
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("debian: Packages: %w", err)
	}
	return out, nil
}

// LoadSections reads the sections of bookworm's main Packages list in an
// apt lists directory (the one Load reads).
func LoadSections(listsDir string) (map[string]string, error) {
	pk, err := findList(listsDir, "_dists_bookworm_main_binary-amd64_Packages")
	if err != nil {
		return nil, err
	}
	f, err := os.Open(pk)
	if err != nil {
		return nil, fmt.Errorf("debian: %w", err)
	}
	defer f.Close()
	return ReadSections(f)
}
