#!/usr/bin/env bash
# resume_torture.sh: a resumable copy killed with SIGKILL at random moments, then run again
# (README "Resuming"). Each round starts `pcopy --resume -v SRC DST`, kills the parent, one worker
# or both (in turn) after a random delay, waits until no pcopy of the round is left, and runs the
# same command again to the end. Every rerun must end with DEST byte-identical to SOURCE, nothing
# of the copy left beside DEST, and copy exactly the data its journal did not record as durable:
# what it says it resumed plus what it copied must be SOURCE's size, and what it wrote (the kernel's
# write_bytes of the rerun and its workers, read in the shell that reaps it) no more than what it
# says it copied, plus 1% of the size for rounding and its journal.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench_lib.sh
. "$here/bench_lib.sh"
repo=$(dirname "$here")
pcopy=$repo/build/release/pcopy
size=2G
rounds=50
work=${TMPDIR:-/tmp}/pcopy-resume-torture

usage() {
  cat <<EOF
usage: $0 [options]
  --size SIZE     the source, with M or G (default $size)
  --rounds N      kills, each followed by a rerun (default $rounds)
  --pcopy PATH    the pcopy binary ($pcopy)
  --dir DIR       work directory, removed at the end ($work)
EOF
}

while [ $# -gt 0 ]; do
  case $1 in
    --size) size=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --pcopy) pcopy=$2; shift 2 ;;
    --dir) work=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "resume_torture: unknown option '$1'" >&2; usage >&2; exit 2 ;;
  esac
done

[ -x "$pcopy" ] || { echo "resume_torture: no pcopy at $pcopy" >&2; exit 2; }
n=$(bytes "$size")
mkdir -p "$work"
trap 'pkill -KILL -f "$work/src" 2>/dev/null || true; rm -rf "$work"' EXIT
require_space "$work" $((3 * n + (1 << 30))) resume_torture
head -c "$n" /dev/urandom >"$work/src"
sync
# How long one whole copy takes, so that kills land anywhere in it.
t0=$EPOCHREALTIME
"$pcopy" --resume "$work/src" "$work/dst"
t1=$EPOCHREALTIME
whole_ms=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%d", (b - a) * 1000 }')
rm -f "$work/dst"
echo "pcopy: $pcopy; $size, $rounds rounds; a whole copy takes $whole_ms ms; $(nproc) CPUs"
printf '%-5s %-7s %8s %-10s %14s %14s %14s %s\n' round kill at_ms first_exit resumed copied written result

failures=0
for ((r = 1; r <= rounds; r++)); do
  target=$(( r % 3 ))  # 0 parent, 1 a worker, 2 both
  kind=$([ $target = 0 ] && echo parent || { [ $target = 1 ] && echo worker || echo both; })
  delay_ms=$(( RANDOM % (whole_ms + 1) ))
  "$pcopy" --resume "$work/src" "$work/dst" 2>"$work/err1" &
  pid=$!
  sleep "$(awk -v ms="$delay_ms" 'BEGIN { printf "%.3f", ms / 1000 }')"
  workers=$(pgrep -P "$pid" || true)
  case $kind in
    parent) kill -KILL "$pid" 2>/dev/null || true ;;
    worker) [ -n "$workers" ] && kill -KILL "$(echo "$workers" | head -1)" 2>/dev/null || true ;;
    both) kill -KILL $workers "$pid" 2>/dev/null || true ;;
  esac
  first=0
  wait "$pid" 2>/dev/null || first=$?
  # The workers die with their parent; the journal's lock goes with the last of them.
  for _ in $(seq 100); do pgrep -f "$work/src" >/dev/null || break; sleep 0.05; done
  # A child's I/O counters are added to its parent's when it is reaped: the inner shell's
  # /proc/self/io then holds the rerun's and its workers'.
  # shellcheck disable=SC2016
  out=$(bash -c '"$@" 2>&1; rc=$?; echo "written $(awk "/^write_bytes/ { print \$2 }" /proc/$$/io)"; exit $rc' \
    _ "$pcopy" --resume -v "$work/src" "$work/dst") ||
    { echo "round $r: the rerun failed: $out"; failures=$((failures + 1)); continue; }
  written=$(sed -n 's/^written \([0-9]*\)$/\1/p' <<<"$out")
  resumed=0
  copied=$n
  v= u=
  read -r v u <<<"$(sed -n 's/.*: \([0-9.]*\) \([KMG]iB\|bytes\) of .* already durable$/\1 \2/p' <<<"$out")" || true
  if [ -n "$v" ]; then
    resumed=$(to_bytes "$v" "$u")
    v= u=
    read -r v u <<<"$(sed -n 's/.*(\([0-9.]*\) \([KMG]iB\|bytes\) of data now.*/\1 \2/p' <<<"$out")" || true
    copied=$([ -n "$v" ] && to_bytes "$v" "$u" || echo 0)
  fi
  result=ok
  cmp -s "$work/src" "$work/dst" || result="DIFFERS"
  left=$(find "$work" -maxdepth 1 -name '.pcopy-*' | wc -l)
  [ "$left" = 0 ] || result="$result, $left left behind"
  # The printed figures are rounded to 3 digits: allow 1% of the size.
  sum=$((resumed + copied))
  if [ $((sum > n ? sum - n : n - sum)) -gt $((n / 100)) ]; then result="$result, resumed+copied=$sum"; fi
  if [ "${written:-0}" -gt $((copied + n / 100)) ]; then result="$result, wrote $written"; fi
  [ "$result" = ok ] || failures=$((failures + 1))
  printf '%-5s %-7s %8s %-10s %14s %14s %14s %s\n' "$r" "$kind" "$delay_ms" "$first" "$resumed" "$copied" "${written:-?}" "$result"
  rm -f "$work/dst"
done
echo "$failures of $rounds rounds failed"
[ "$failures" = 0 ]
