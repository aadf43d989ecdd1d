#!/usr/bin/env bash
# resume_cost.sh: what resumability costs (README "Resuming"): `pcopy --fsync --resume` against
# `pcopy --fsync --no-resume` and `cp SRC DST && sync`, in the same rounds. With --tree, SOURCE is
# a tree (3,000 files of 1 byte to 64 KiB in 30 directories and three large files sharing SIZE)
# copied with -a by all three (cp -a).
#
# A random source is made once. Each round runs the three commands in a shuffled order; before
# each one the previous copy is removed and synced, and with --cold (root) the page cache is
# dropped, so every run reads SOURCE from storage and writes DEST to it. A round's ratio is
# resume/no-resume of that round; the report gives each command's median and min-max, and the
# median of the ratios, the only figure worth quoting on a machine whose speed drifts.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench_lib.sh
. "$here/bench_lib.sh"
repo=$(dirname "$here")
pcopy=$repo/build/release/pcopy
size=1G
rounds=7
cold=0
tree=0
work=${TMPDIR:-/tmp}/pcopy-resume-bench

usage() {
  cat <<EOF
usage: $0 [options]
  --size SIZE     the source, with M or G (default $size)
  --rounds N      shuffled rounds (default $rounds)
  --cold          drop the page cache before each run (root)
  --tree          a tree of small files and three large ones instead of one file
  --pcopy PATH    the pcopy binary ($pcopy)
  --dir DIR       work directory, removed at the end ($work)
EOF
}

while [ $# -gt 0 ]; do
  case $1 in
    --size) size=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --cold) cold=1; shift ;;
    --tree) tree=1; shift ;;
    --pcopy) pcopy=$2; shift 2 ;;
    --dir) work=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "resume_cost: unknown option '$1'" >&2; usage >&2; exit 2 ;;
  esac
done


[ -x "$pcopy" ] || { echo "resume_cost: no pcopy at $pcopy" >&2; exit 2; }
if [ "$cold" = 1 ] && [ "$(id -u)" != 0 ]; then
  echo "resume_cost: --cold drops the page cache, which needs root" >&2
  exit 2
fi
n=$(bytes "$size")
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT
# The source and one copy at a time, with a GiB to spare: never fill the disk.
require_space "$work" $((2 * n + (1 << 30))) resume_cost
if [ "$tree" = 1 ]; then
  make_resume_tree "$work/src" 3000 $((n / 3)) 3
  a=(-a)
else
  head -c "$n" /dev/urandom >"$work/src"
  a=()
fi
sync

declare -A times
names=(cp_sync no_resume resume)
run() {
  case $1 in
    cp_sync) cp "${a[@]}" "$work/src" "$work/dst" && sync ;;
    no_resume) "$pcopy" "${a[@]}" --fsync --no-resume "$work/src" "$work/dst" ;;
    resume) "$pcopy" "${a[@]}" --fsync --resume "$work/src" "$work/dst" ;;
  esac
}

echo "pcopy: $pcopy; $size$([ "$tree" = 1 ] && echo " in a tree"), $rounds shuffled rounds, $([ "$cold" = 1 ] && echo cold || echo hot)" \
  "source; $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
ratios=()
for ((r = 1; r <= rounds; r++)); do
  for name in $(printf '%s\n' "${names[@]}" | shuf); do
    rm -rf "$work/dst"
    sync
    if [ "$cold" = 1 ]; then echo 3 >/proc/sys/vm/drop_caches; fi
    t0=$EPOCHREALTIME
    run "$name" >/dev/null
    t1=$EPOCHREALTIME
    t=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
    times[$name]="${times[$name]:-} $t"
    printf -v "round_$name" '%s' "$t"
    diff -r --no-dereference "$work/src" "$work/dst" >/dev/null || { echo "resume_cost: round $r, $name: the copy differs" >&2; exit 1; }
  done
  ratios+=("$(awk -v a="$round_resume" -v b="$round_no_resume" 'BEGIN { printf "%.3f", a / b }')")
done

printf '%-10s %9s %13s\n' command median_s min-max_s
for name in "${names[@]}"; do
  # shellcheck disable=SC2086
  printf '%-10s %9s %13s\n' "$name" "$(printf '%s\n' ${times[$name]} | median)" \
    "$(printf '%s\n' ${times[$name]} | spread)"
done
echo "resume/no_resume, same-round ratios: ${ratios[*]}"
echo "median ratio: $(printf '%s\n' "${ratios[@]}" | median)"
