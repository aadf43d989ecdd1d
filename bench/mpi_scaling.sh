#!/usr/bin/env bash
# mpi_scaling.sh: pcopy-mpi across ranks (README "Many machines"), simulated on one machine.
#
# Scaling: each rank is limited to RATE (--bwlimit limits each rank of pcopy-mpi, standing for a
# node's link), and 1, 2, 4, 8 ranks copy the same file; the aggregate rate (the file's size over
# the copy's own time, from its -v line: launch and MPI start-up excluded) is compared with N x
# RATE. Start-up is the whole command's time less the copy's. A slow rank: 4 ranks, rank 0 four
# times slower than the others (--slow-worker 4), copying with contiguous (each rank its quarter:
# the slow one sets the pace) and with dynamic (the shared cursor: the others take up its share).
# Overhead (--overhead SIZE): `mpirun -np 2 pcopy-mpi` against `pcopy -j 2` on one hot file, in
# alternating rounds, the median of same-round ratios.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench_lib.sh
. "$here/bench_lib.sh"
repo=$(dirname "$here")
build=$repo/build/release
size=400M
rate=100M
ranks="1 2 4 8"
overhead=0
rounds=3
work=${TMPDIR:-/tmp}/pcopy-mpi-scaling

usage() {
  cat <<EOF
usage: $0 [options]
  --size SIZE       the file the ranks copy, with M or G (default $size)
  --rate RATE       --bwlimit of each rank (default $rate)
  --ranks "N ..."   rank counts (default "$ranks")
  --overhead SIZE   also compare mpirun -np 2 pcopy-mpi with pcopy -j 2 on a file of SIZE
  --rounds N        rounds of that comparison (default $rounds)
  --build DIR       where pcopy and pcopy-mpi are ($build)
  --dir DIR         work directory, removed at the end ($work)
EOF
}

while [ $# -gt 0 ]; do
  case $1 in
    --size) size=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --ranks) ranks=$2; shift 2 ;;
    --overhead) overhead=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --dir) work=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "mpi_scaling: unknown option '$1'" >&2; usage >&2; exit 2 ;;
  esac
done

mpi_setup mpi_scaling
n=$(bytes "$size")
over=$(bytes "$overhead")
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT
require_space "$work" $((2 * (n > over ? n : over) + (1 << 30))) mpi_scaling
head -c "$n" /dev/urandom >"$work/src"

# Runs the command, prints "whole_s copy_s": the wall time, and the copy's own from its -v line.
timed() {
  local t0 t1 out
  rm -f "$work/dst"
  t0=$EPOCHREALTIME
  out=$("$@")
  t1=$EPOCHREALTIME
  cmp -s "$work/src" "$work/dst" || { echo "mpi_scaling: the copy differs" >&2; exit 1; }
  awk -v a="$t0" -v b="$t1" -v c="$(sed -n 's/.* in \([0-9.]*\) s .*/\1/p' <<<"$out" | tail -1)" \
    'BEGIN { printf "%.3f %.3f", b - a, c }'
}

echo "pcopy-mpi: $build/pcopy-mpi; $size, --bwlimit $rate per rank; $(nproc) CPUs;" \
  "Open MPI session directory in $OMPI_MCA_orte_tmpdir_base"
printf '%-6s %9s %9s %11s %11s %10s %10s\n' ranks whole_s copy_s startup_s MB/s ideal_MB/s efficiency
r_bytes=$(bytes "$rate")
rows=()
for np in $ranks; do
  read -r whole copy <<<"$(timed "${mpi[@]}" -np "$np" "$build/pcopy-mpi" -v --bwlimit "$rate" "$work/src" "$work/dst")"
  awk -v np="$np" -v w="$whole" -v c="$copy" -v n="$n" -v r="$r_bytes" 'BEGIN {
    printf "%-6s %9.3f %9.3f %11.3f %11.1f %10.1f %10.2f\n", np, w, c, w - c, n / c / 1e6, np * r / 1e6, (n / c) / (np * r) }'
  rows+=("$np $(awk -v n="$n" -v c="$copy" -v np="$np" -v r="$r_bytes" 'BEGIN { print n / c / 1e6, np * r / 1e6 }')")
done
# The same, drawn: one bar per rank count, '#' up to the aggregate measured, '|' at the ideal.
echo
echo "aggregate MB/s against ranks ('#' measured, '|' ideal: ranks x --bwlimit)"
printf '%s\n' "${rows[@]}" | awk '{ np[NR] = $1; got[NR] = $2; ideal[NR] = $3; if ($3 > top) top = $3 }
  END { for (i = 1; i <= NR; i++) {
    g = int(got[i] / top * 60 + 0.5); d = int(ideal[i] / top * 60 + 0.5); bar = ""
    for (k = 1; k <= (g > d ? g : d); k++) bar = bar (k == d ? "|" : (k <= g ? "#" : " "))
    printf "%-3s %-61s %7.1f\n", np[i], bar, got[i] } }'

echo
echo "4 ranks at $rate, rank 0 four times slower (--slow-worker 4):"
for s in contiguous dynamic; do
  read -r whole copy <<<"$(timed "${mpi[@]}" -np 4 "$build/pcopy-mpi" -v --bwlimit "$rate" --slow-worker 4 --strategy "$s" "$work/src" "$work/dst")"
  printf '%-10s copy %.3f s (%.1f MB/s)\n' "$s" "$copy" "$(awk -v n="$n" -v c="$copy" 'BEGIN { print n / c / 1e6 }')"
  eval "slow_$s=$copy"
done
# shellcheck disable=SC2154 # set by the eval above
echo "dynamic / contiguous throughput: $(awk -v a="$slow_contiguous" -v b="$slow_dynamic" 'BEGIN { printf "%.2f", a / b }')"

[ "$over" -gt 0 ] || exit 0
echo
head -c "$over" /dev/urandom >"$work/src"
echo "overhead: $overhead, hot, $rounds alternating rounds (whole commands)"
ratios=()
for ((r = 1; r <= rounds; r++)); do
  read -r p _ <<<"$(timed "$build/pcopy" -j 2 -v "$work/src" "$work/dst")"
  read -r m c <<<"$(timed "${mpi[@]}" -np 2 "$build/pcopy-mpi" -v "$work/src" "$work/dst")"
  ratios+=("$(awk -v p="$p" -v m="$m" 'BEGIN { printf "%.3f", p / m }')")
  printf 'round %d: pcopy -j 2 %.3f s; mpirun -np 2 pcopy-mpi %.3f s (its copy %.3f s)\n' "$r" "$p" "$m" "$c"
done
echo "pcopy-mpi speed relative to pcopy -j 2, same-round ratios: ${ratios[*]}; median $(printf '%s\n' "${ratios[@]}" | median)"
