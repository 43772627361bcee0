# Sourced by scripts/test-prereqs.sh and scripts/vscode-test/setup.sh: the Debian packages a
# script needs, found with dpkg and installed with apt-get when running as root.

# missing_debian_packages PKG...: prints those dpkg does not know, one per line.
missing_debian_packages() {
  local p
  for p in "$@"; do
    dpkg -s "$p" >/dev/null 2>&1 || echo "$p"
  done
}

# install_debian_packages WHO PKG...: installs them as root; otherwise says what to run and exits 1.
install_debian_packages() {
  local who=$1
  shift
  (($# > 0)) || return 0
  if [[ $(id -u) -ne 0 ]]; then
    echo "$who: missing Debian packages: $*" >&2
    echo "  install them: sudo apt-get install -y --no-install-recommends $*" >&2
    exit 1
  fi
  echo "$who: installing Debian packages: $*"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
