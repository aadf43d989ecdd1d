#!/usr/bin/env bash
# Installs, from Debian 12's packages, whatever pcopy's build, tests and benchmarks need and this
# machine lacks. Run as root; a machine that has everything is left alone (no apt-get update).
set -euo pipefail

packages=(cmake make g++ libboost-dev libboost-program-options-dev libgtest-dev libbenchmark-dev libxxhash-dev
          util-linux python3 gnuplot-nox strace xfsprogs btrfs-progs time rsync
          libopenmpi-dev openmpi-bin help2man man-db bash-completion xxhash)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages: ${missing[*]}; run as root or install them" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
