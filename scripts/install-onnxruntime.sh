#!/bin/sh
# install-onnxruntime.sh: fetch the ONNX Runtime shared library that vecbolt's
# transformer embedder loads, into a per-user cache, and print its path.
#
# Why npm: no Go module ships an x86-64 libonnxruntime, GitHub release
# downloads are not reachable from every build machine, but the npm registry
# is, and onnxruntime-node@1.30.0 carries the plain C library (it needs only
# libc and libstdc++). `npm pack` downloads the tarball without installing or
# running anything from it; the tarball is checked against a pinned SHA-256
# before a single file is extracted.
#
# Usage: scripts/install-onnxruntime.sh            (prints the library path)
#        VECBOLT_CACHE=/some/dir scripts/install-onnxruntime.sh
# The embedder finds the library in the same cache directory without any
# further configuration; ONNXRUNTIME_LIB=PATH overrides it.
#
# Idempotent: when the library is already in place with the expected hash,
# nothing is downloaded.
set -eu

ORT_VERSION=1.30.0
NPM_PACKAGE=onnxruntime-node@${ORT_VERSION}
# sha256 of onnxruntime-node-1.30.0.tgz as served by registry.npmjs.org
# (npm's own integrity field is sha512; this pin is independent of it).
TARBALL_SHA256=6e3390d6b783e7be946fad629292799da28d0b42f84856e50d2c1b0383291e75
# sha256 of the extracted libraries, checked on every run so a damaged cache
# is replaced rather than trusted.
LIB_SHA256_X64=ffb75a925ba05e47b235bb66e3e3911714a80b328a9c9425539feb204aa32a23
LIB_SHA256_ARM64=1f549d46250b005580b597f4164984aaf75b3bcb9f3aeb07c7f8a8fe60b23c76
LIB_NAME=libonnxruntime.so.1

die() {
	echo "install-onnxruntime: $*" >&2
	exit 1
}

os=$(uname -s)
arch=$(uname -m)
if [ "$os" != "Linux" ]; then
	die "unsupported OS $os: the npm package $NPM_PACKAGE ships a plain C library only for Linux (x86-64, arm64); on $os install ONNX Runtime $ORT_VERSION from https://github.com/microsoft/onnxruntime/releases and set ONNXRUNTIME_LIB to the library path"
fi
case "$arch" in
x86_64 | amd64)
	npm_arch=x64
	lib_sha256=$LIB_SHA256_X64
	;;
aarch64 | arm64)
	npm_arch=arm64
	lib_sha256=$LIB_SHA256_ARM64
	;;
*)
	die "unsupported CPU architecture $arch: $NPM_PACKAGE ships Linux libraries only for x86-64 and arm64; install ONNX Runtime $ORT_VERSION yourself and set ONNXRUNTIME_LIB"
	;;
esac

cache_root=${VECBOLT_CACHE:-${XDG_CACHE_HOME:-${HOME:?HOME is not set}/.cache}/vecbolt}
dest_dir=$cache_root/onnxruntime/$ORT_VERSION
dest=$dest_dir/$LIB_NAME

sha256_of() {
	if command -v sha256sum >/dev/null 2>&1; then
		sha256sum "$1" | cut -d' ' -f1
	elif command -v shasum >/dev/null 2>&1; then
		shasum -a 256 "$1" | cut -d' ' -f1
	else
		die "neither sha256sum nor shasum is available to check downloads"
	fi
}

if [ -f "$dest" ] && [ "$(sha256_of "$dest")" = "$lib_sha256" ]; then
	echo "$dest"
	exit 0
fi

# A clean Debian/Ubuntu machine (CI) has no npm: install Debian's when we
# may (root with apt-get), otherwise say what to do.
if ! command -v npm >/dev/null 2>&1; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && [ "${VECBOLT_NO_APT:-}" != 1 ]; then
		echo "install-onnxruntime: npm not found; installing Debian's npm with apt-get (set VECBOLT_NO_APT=1 to forbid)" >&2
		apt-get update -qq >&2 || die "apt-get update failed"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends npm >&2 || die "apt-get install npm failed"
	fi
	command -v npm >/dev/null 2>&1 || die "npm is required to fetch $NPM_PACKAGE (Debian/Ubuntu: apt-get install -y npm), or set ONNXRUNTIME_LIB to an ONNX Runtime $ORT_VERSION library you already have"
fi
command -v tar >/dev/null 2>&1 || die "tar is required"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/vecbolt-ort.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

echo "install-onnxruntime: fetching $NPM_PACKAGE (about 110 MB) with npm pack" >&2
(cd "$tmp" && npm pack --silent "$NPM_PACKAGE" >/dev/null) || die "npm pack $NPM_PACKAGE failed (is the npm registry reachable?)"
tarball=$tmp/onnxruntime-node-$ORT_VERSION.tgz
[ -f "$tarball" ] || die "npm pack did not produce $tarball"

got=$(sha256_of "$tarball")
[ "$got" = "$TARBALL_SHA256" ] || die "sha256 mismatch for $NPM_PACKAGE tarball: got $got, want $TARBALL_SHA256"

member=package/bin/napi-v6/linux/$npm_arch/$LIB_NAME
tar -xzf "$tarball" -C "$tmp" "$member" || die "$member not found in the tarball"
got=$(sha256_of "$tmp/$member")
[ "$got" = "$lib_sha256" ] || die "sha256 mismatch for $member: got $got, want $lib_sha256"

mkdir -p "$dest_dir"
# Copy next to the destination, then rename: a concurrent reader (another
# test process) sees either no library or the whole one, never half of it.
cp "$tmp/$member" "$dest.tmp.$$"
chmod 0644 "$dest.tmp.$$"
mv -f "$dest.tmp.$$" "$dest"
echo "$dest"
