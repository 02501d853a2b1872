# apt_install installs Debian packages, with sudo when not root, running
# apt-get update once per shell. Sourced by scripts/ensure-tools.sh and
# scripts/install-bench-peers.sh.

apt_updated=0
apt_install() {
	local sudo=""
	if [ "$(id -u)" != 0 ]; then
		if command -v sudo >/dev/null; then sudo="sudo"; else
			echo "apt_install: need to install $* but am not root and have no sudo" >&2
			return 1
		fi
	fi
	if [ $apt_updated = 0 ]; then
		$sudo apt-get update -qq >/dev/null
		apt_updated=1
	fi
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
