#!/usr/bin/env bash
# What `npm test` needs besides node_modules, made present (npm runs this as `pretest`):
#   - Debian packages: docker.io, busybox-static (test images are FROM scratch + busybox), git,
#     openssh-server and -client (ssh:// tests run a loopback sshd of their own, never the system one);
#   - a real VS Code for test/vscode: code-server + Node 24 from npm, cached in
#     ~/.cache/build-provenance, and Debian's chromium (scripts/vscode-test/setup.sh);
#   - a Docker daemon: started (bridge-less, see scripts/docker-daemon.sh) only if none answers.
# Each step is skipped in about a second when already done. Root is needed only to install or
# start something; otherwise the step says what to run.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive

source scripts/debian-packages.sh
packages=(busybox-static git openssh-client openssh-server)
# A machine with its own Docker (Docker Desktop, docker-ce) needs no docker.io.
docker version >/dev/null 2>&1 || packages+=(docker.io)
mapfile -t missing < <(missing_debian_packages "${packages[@]}")
install_debian_packages test-prereqs "${missing[@]}"

bash scripts/vscode-test/setup.sh

if ! docker version >/dev/null 2>&1; then
  if [[ $(id -u) -ne 0 ]]; then
    echo "test-prereqs: no Docker daemon answers. Start yours (sudo systemctl start docker), or: sudo bash scripts/docker-daemon.sh start" >&2
    exit 1
  fi
  bash scripts/docker-daemon.sh start
fi
