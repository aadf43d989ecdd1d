#!/usr/bin/env bash
# small_file_bench.sh: wall time of one small-file copy, cp against pcopy (README "Defaults",
# single-file copies below the in-process threshold).
#
# For each size, a random source is made once and read into the page cache; then --runs rounds,
# each timing `cp SRC DST` and `pcopy SRC DST` in an order that alternates every round, each into
# a destination name never used before (a file system may pay for reusing a name, or for inodes
# deleted moments ago: every copy is kept until the size is done). A round's ratio is
# pcopy/cp of that round; the report gives each tool's median and the median of the ratios, which
# on a shared machine is the only figure worth quoting. Times come from bash's EPOCHREALTIME
# around the command, so both tools pay the same fork and exec of the shell.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
pcopy=$repo/build/release/pcopy
sizes="4K 64K 1M"
runs=31
work=${TMPDIR:-/tmp}/pcopy-small-bench
extra=()

usage() {
  cat <<EOF
usage: $0 [options] [-- PCOPY-OPTION...]
  --sizes 'A B'   source sizes, with K or M (default: $sizes)
  --runs N        rounds per size (default $runs)
  --pcopy PATH    the pcopy binary ($pcopy)
  --dir DIR       work directory, removed at the end ($work)
Options after -- are given to every pcopy run (e.g. -- -j 2).
EOF
}

while [ $# -gt 0 ]; do
  case $1 in
    --sizes) sizes=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --pcopy) pcopy=$2; shift 2 ;;
    --dir) work=$2; shift 2 ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) usage; exit 0 ;;
    *) echo "small_file_bench: unknown option '$1'" >&2; usage >&2; exit 2 ;;
  esac
done

bytes() {
  local n=${1%[KkMm]}
  case $1 in
    *[Kk]) echo $((n * 1024)) ;;
    *[Mm]) echo $((n * 1024 * 1024)) ;;
    *) echo "$n" ;;
  esac
}

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# Microseconds a command takes, from the shell's clock.
time_us() {
  local t0 t1
  t0=$EPOCHREALTIME
  "$@" >/dev/null
  t1=$EPOCHREALTIME
  echo $(( (${t1/./} - ${t0/./}) ))
}

[ -x "$pcopy" ] || { echo "small_file_bench: no pcopy at $pcopy" >&2; exit 2; }
rm -rf "$work"
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT

echo "pcopy: $pcopy ${extra[*]:-}"
echo "cp: $(cp --version | head -1); $runs rounds per size, alternating order; $(nproc) CPUs," \
  "load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-6s %10s %10s %12s %10s %10s\n' size cp_ms pcopy_ms ratio_median ratio_min ratio_max
for size in $sizes; do
  dir=$work/$size
  mkdir -p "$dir"
  head -c "$(bytes "$size")" /dev/urandom >"$dir/src"
  cat "$dir/src" >/dev/null
  # One untimed copy each, so both binaries and their libraries are in the page cache.
  cp "$dir/src" "$dir/warm-cp"
  "$pcopy" "${extra[@]}" "$dir/src" "$dir/warm-pcopy"
  cmp -s "$dir/src" "$dir/warm-pcopy" || { echo "small_file_bench: pcopy's copy differs" >&2; exit 1; }
  : >"$dir/cp.txt"
  : >"$dir/pcopy.txt"
  : >"$dir/ratio.txt"
  for ((i = 0; i < runs; i++)); do
    if ((i % 2 == 0)); then
      c=$(time_us cp "$dir/src" "$dir/cp-$i")
      p=$(time_us "$pcopy" "${extra[@]}" "$dir/src" "$dir/pcopy-$i")
    else
      p=$(time_us "$pcopy" "${extra[@]}" "$dir/src" "$dir/pcopy-$i")
      c=$(time_us cp "$dir/src" "$dir/cp-$i")
    fi
    echo "$c" >>"$dir/cp.txt"
    echo "$p" >>"$dir/pcopy.txt"
    awk -v p="$p" -v c="$c" 'BEGIN { printf "%.4f\n", p / c }' >>"$dir/ratio.txt"
  done
  printf '%-6s %10.3f %10.3f %11.2fx %9.2fx %9.2fx\n' "$size" \
    "$(median <"$dir/cp.txt" | awk '{ print $1 / 1000 }')" \
    "$(median <"$dir/pcopy.txt" | awk '{ print $1 / 1000 }')" \
    "$(median <"$dir/ratio.txt")" "$(sort -g "$dir/ratio.txt" | head -1)" \
    "$(sort -g "$dir/ratio.txt" | tail -1)"
  rm -rf "$dir"
done
