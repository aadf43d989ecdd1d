#!/usr/bin/env bash
# stream_bench.sh: pcopy with '-' (standard input and output) against cat doing the same job in the
# same pipeline (README "Standard input and output"):
#   out      pcopy SRC - | cat >/dev/null        cat SRC | cat >/dev/null
#   in       cat SRC | pcopy - DST              cat SRC | cat >DST
#   through  cat SRC | pcopy - - | cat >/dev/null  cat SRC | cat | cat >/dev/null
# SRC is made once and read into the page cache; each round times both commands, in an order that
# alternates every round, and its ratio is pcopy/cat of that round. The report gives each tool's
# median and the median of the ratios, the only figure worth quoting on a shared machine.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
source "$here/bench_lib.sh"
pcopy=$repo/build/release/pcopy
size=256M
runs=9
work=${TMPDIR:-/tmp}/pcopy-stream-bench

usage() {
  cat <<USAGE
usage: $0 [--size SIZE] [--runs N] [--pcopy PATH] [--dir DIR]
  --size SIZE   the source, with K, M or G (default: $size)
  --runs N      rounds per case (default $runs)
  --pcopy PATH  the pcopy binary ($pcopy)
  --dir DIR     work directory, removed at the end ($work)
USAGE
}

while [ $# -gt 0 ]; do
  case $1 in
    --size) size=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --pcopy) pcopy=$2; shift 2 ;;
    --dir) work=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "stream_bench: unknown option '$1'" >&2; usage >&2; exit 2 ;;
  esac
done

[ -x "$pcopy" ] || { echo "stream_bench: no pcopy at $pcopy" >&2; exit 2; }
rm -rf "$work"
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT
# The source and two copies at most (in: pcopy's and cat's DST).
require_space "$work" $(( 3 * $(bytes "$size") )) stream_bench
src=$work/src
head -c "$(bytes "$size")" /dev/urandom >"$src"
cat "$src" >/dev/null
export pcopy src work

# Seconds a pipeline takes (bash -c, so both tools pay the same shell).
seconds() {
  local t0=$EPOCHREALTIME
  bash -c "$1"
  awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.4f\n", b - a }'
}

declare -A ours=(
  [out]='"$pcopy" "$src" - | cat >/dev/null'
  [in]='cat "$src" | "$pcopy" - "$work/dst-pcopy"'
  [through]='cat "$src" | "$pcopy" - - | cat >/dev/null'
)
declare -A theirs=(
  [out]='cat "$src" | cat >/dev/null'
  [in]='cat "$src" | cat >"$work/dst-cat"'
  [through]='cat "$src" | cat | cat >/dev/null'
)

echo "pcopy: $pcopy; $size cached; $runs rounds per case, alternating order; $(nproc) CPUs," \
  "load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-8s %10s %10s %12s %10s\n' case cat_s pcopy_s ratio_median ratio_range
for case in out in through; do
  : >"$work/cat.txt"; : >"$work/pcopy.txt"; : >"$work/ratio.txt"
  for ((i = 0; i < runs; i++)); do
    rm -f "$work/dst-pcopy" "$work/dst-cat"
    if ((i % 2 == 0)); then
      c=$(seconds "${theirs[$case]}"); p=$(seconds "${ours[$case]}")
    else
      p=$(seconds "${ours[$case]}"); c=$(seconds "${theirs[$case]}")
    fi
    echo "$c" >>"$work/cat.txt"; echo "$p" >>"$work/pcopy.txt"
    awk -v p="$p" -v c="$c" 'BEGIN { printf "%.4f\n", p / c }' >>"$work/ratio.txt"
  done
  if [ "$case" = in ] && ! cmp -s "$src" "$work/dst-pcopy"; then
    echo "stream_bench: pcopy's copy differs" >&2; exit 1
  fi
  printf '%-8s %10.3f %10.3f %11.2fx %10s\n' "$case" "$(median <"$work/cat.txt")" \
    "$(median <"$work/pcopy.txt")" "$(median <"$work/ratio.txt")" "$(spread <"$work/ratio.txt")"
done
