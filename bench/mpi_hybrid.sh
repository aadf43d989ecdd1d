#!/usr/bin/env bash
# mpi_hybrid.sh: pcopy-mpi's two ways to use W cores of one node, at the same W: W ranks
# (mpirun -np W), or one rank with W forked workers (mpirun -np 1 --bind-to none pcopy-mpi -j W,
# the hybrid launch: one rank per node on a cluster), with `pcopy -j W` (no MPI) as the baseline;
# on one large file and on a tree, hot (SOURCE in the page cache) and, as root, cold (every cache
# dropped before each command). Each round runs the three once, in an order that rotates between
# rounds; the figures are medians of same-round ratios to the hybrid launch (above 1: the hybrid
# is faster). Every copy is compared with SOURCE (cmp, diff -r).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench_lib.sh
. "$here/bench_lib.sh"
repo=$(dirname "$here")
build=$repo/build/release
size=1G
files=3000
large=256M
workers=$(nproc)
rounds=5
work=${TMPDIR:-/tmp}/pcopy-mpi-hybrid

usage() {
  cat <<EOF
usage: $0 [options]
  --size SIZE       the one file, with M or G (default $size)
  --files N         small files of the tree, 1 byte to 64 KiB (default $files)
  --large SIZE      each of the tree's two large files (default $large)
  --workers W       ranks, and workers of the one rank (default: the CPUs, $workers)
  --rounds N        rounds (default $rounds)
  --build DIR       where pcopy and pcopy-mpi are ($build)
  --dir DIR         work directory, removed at the end ($work)
EOF
}

while [ $# -gt 0 ]; do
  case $1 in
    --size) size=$2; shift 2 ;;
    --files) files=$2; shift 2 ;;
    --large) large=$2; shift 2 ;;
    --workers) workers=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --dir) work=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "mpi_hybrid: unknown option '$1'" >&2; usage >&2; exit 2 ;;
  esac
done

mpi_setup mpi_hybrid
n=$(bytes "$size")
l=$(bytes "$large")
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT
file_and_tree mpi_hybrid "$n" "$files" "$l"

run() { timed_copy mpi_hybrid "$@"; }

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }

echo "pcopy-mpi: $build/pcopy-mpi; $(nproc) CPUs; W = $workers; file $size; tree $files small files + 2 x $large"
for what in file tree; do
  flags=()
  [ "$what" = tree ] && flags=(-r)
  for state in $states; do
    ranks=() hybrid=() alone=() r_ranks=() r_alone=()
    for ((r = 0; r < rounds; r++)); do
      for ((k = 0; k < 3; k++)); do
        case $(((r + k) % 3)) in
          0) t=$(run "$what" "$state" "${mpi[@]}" -np "$workers" "$build/pcopy-mpi" "${flags[@]}" "$work/$what" "$work/out"); ranks+=("$t") ;;
          1) t=$(run "$what" "$state" "${mpi[@]}" -np 1 --bind-to none "$build/pcopy-mpi" -j "$workers" "${flags[@]}" "$work/$what" "$work/out"); hybrid+=("$t") ;;
          2) t=$(run "$what" "$state" "$build/pcopy" -j "$workers" "${flags[@]}" "$work/$what" "$work/out"); alone+=("$t") ;;
        esac
      done
      r_ranks+=("$(ratio "${ranks[r]}" "${hybrid[r]}")")
      r_alone+=("$(ratio "${alone[r]}" "${hybrid[r]}")")
    done
    echo
    echo "== $what, $state"
    echo "mpirun -np $workers pcopy-mpi:                   ${ranks[*]} s"
    echo "mpirun -np 1 --bind-to none pcopy-mpi -j $workers: ${hybrid[*]} s"
    echo "pcopy -j $workers:                                ${alone[*]} s"
    echo "median ratio, $workers ranks / hybrid:    $(printf '%s\n' "${r_ranks[@]}" | median)"
    echo "median ratio, pcopy -j $workers / hybrid: $(printf '%s\n' "${r_alone[@]}" | median)"
  done
done
