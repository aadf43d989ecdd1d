#!/usr/bin/env bash
# mpi_vs_dcp.sh: pcopy-mpi against mpifileutils' dcp, the MPI copier HPC sites use, at the same
# rank counts, on one large file and on a tree, hot (SOURCE in the page cache) and cold (every
# cache dropped before each command; root only), with `cp && sync` as the single-process
# baseline. Same work: dcp makes its copy durable at the end with sync(2) (it calls no fsync per
# file: strace shows one fsync and two syncs in a whole tree's copy), so pcopy-mpi runs as
# `pcopy-mpi && sync`; and, as the stronger promise, `pcopy-mpi --fsync` (each file durable before
# it appears). On the tree both preserve (-p, -a).
#
# dcp is not in Debian: build it from its sources (libcircle, lwgrp, dtcmp, mpifileutils) and
# pass --dcp PATH. Each round runs every command once, in an order that rotates between rounds;
# the figures are medians of same-round ratios dcp / pcopy-mpi (above 1: pcopy-mpi is faster).
# Every copy is compared with SOURCE (cmp, diff -r).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench_lib.sh
. "$here/bench_lib.sh"
repo=$(dirname "$here")
build=$repo/build/release
dcp=${DCP:-}
size=1G
files=3000
large=256M
ranks="1 2 4"
rounds=3
work=${TMPDIR:-/tmp}/pcopy-mpi-vs-dcp

usage() {
  cat <<EOF
usage: $0 --dcp PATH [options]
  --dcp PATH        mpifileutils' dcp (or DCP=PATH)
  --size SIZE       the one file, with M or G (default $size)
  --files N         small files of the tree, 1 byte to 64 KiB (default $files)
  --large SIZE      each of the tree's two large files (default $large)
  --ranks "N ..."   rank counts (default "$ranks")
  --rounds N        rounds (default $rounds)
  --build DIR       where pcopy-mpi is ($build)
  --dir DIR         work directory, removed at the end ($work)
EOF
}

while [ $# -gt 0 ]; do
  case $1 in
    --dcp) dcp=$2; shift 2 ;;
    --size) size=$2; shift 2 ;;
    --files) files=$2; shift 2 ;;
    --large) large=$2; shift 2 ;;
    --ranks) ranks=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --dir) work=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "mpi_vs_dcp: unknown option '$1'" >&2; usage >&2; exit 2 ;;
  esac
done

[ -n "$dcp" ] && [ -x "$dcp" ] || { echo "mpi_vs_dcp: no dcp (--dcp PATH)" >&2; usage >&2; exit 2; }
mpi_setup mpi_vs_dcp
n=$(bytes "$size")
l=$(bytes "$large")
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT
file_and_tree mpi_vs_dcp "$n" "$files" "$l"

run() { timed_copy mpi_vs_dcp "$@"; }

echo "dcp: $dcp; pcopy-mpi: $build/pcopy-mpi; $(nproc) CPUs; file $size; tree $files small files + 2 x $large"
for what in file tree; do
  for state in $states; do
    echo
    echo "== $what, $state"
    printf '%-6s %-24s %-24s %-24s %s\n' ranks "dcp s" "pcopy-mpi && sync s" \
      "pcopy-mpi --fsync s" "dcp/(&& sync), dcp/--fsync"
    flags=(); dflags=(-q)
    [ "$what" = tree ] && { flags=(-a); dflags=(-q -p); }
    cps=()
    for np in $ranks; do
      d=() p=() f=() r_sync=() r_fsync=()
      for ((r = 0; r < rounds; r++)); do
        for ((k = 0; k < 3; k++)); do
          case $(((r + np + k) % 3)) in
            0) d+=("$(run "$what" "$state" "${mpi[@]}" -np "$np" "$dcp" "${dflags[@]}" "$work/$what" "$work/out")") ;;
            1) p+=("$(run "$what" "$state" sh -c '"$@" && sync' sh "${mpi[@]}" -np "$np" "$build/pcopy-mpi" "${flags[@]}" "$work/$what" "$work/out")") ;;
            2) f+=("$(run "$what" "$state" "${mpi[@]}" -np "$np" "$build/pcopy-mpi" --fsync "${flags[@]}" "$work/$what" "$work/out")") ;;
          esac
        done
        r_sync+=("$(awk -v a="${d[r]}" -v b="${p[r]}" 'BEGIN { printf "%.3f", a / b }')")
        r_fsync+=("$(awk -v a="${d[r]}" -v b="${f[r]}" 'BEGIN { printf "%.3f", a / b }')")
      done
      printf '%-6s %-24s %-24s %-24s %s %s\n' "$np" "${d[*]}" "${p[*]}" "${f[*]}" \
        "$(printf '%s\n' "${r_sync[@]}" | median)" "$(printf '%s\n' "${r_fsync[@]}" | median)"
    done
    for ((r = 1; r <= rounds; r++)); do
      cps+=("$(run "$what" "$state" sh -c "cp -a '$work/$what' '$work/out' && sync")")
    done
    echo "cp -a && sync: ${cps[*]} s (median $(printf '%s\n' "${cps[@]}" | median))"
  done
done
