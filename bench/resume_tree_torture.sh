#!/usr/bin/env bash
# resume_tree_torture.sh: a tree copied with `pcopy -a --resume` killed with SIGKILL at random
# moments, then run again (README "Resuming"). The tree holds many small files and a few large
# ones, which the copy splits into chunks and journals. Each round kills the parent, or the parent
# and its workers, after a random delay, waits until no pcopy of the round is left, and runs the
# same command again to the end. Every rerun must publish a tree equal to SOURCE (bytes, types,
# modes, mtimes), leave nothing of pcopy's beside it or in it, and account for every byte: what
# it says it resumed plus what it says it copied is the tree's data (sum-data: the difference, 0
# but for the rounding of the printed figures). `written` is the kernel's write_bytes of the
# rerun and its workers (read in the shell that reaps them): what reached the page cache, the
# journals included.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench_lib.sh
. "$here/bench_lib.sh"
repo=$(dirname "$here")
pcopy=$repo/build/release/pcopy
files=3000
large=256M
large_count=3
rounds=20
work=${TMPDIR:-/tmp}/pcopy-resume-tree-torture

usage() {
  cat <<EOF
usage: $0 [options]
  --files N       small files (1 byte to 64 KiB) in 30 directories (default $files)
  --large SIZE    the size of each large file, with M or G (default $large)
  --large-count N large files (default $large_count)
  --rounds N      kills, each followed by a rerun (default $rounds)
  --pcopy PATH    the pcopy binary ($pcopy)
  --dir DIR       work directory, removed at the end ($work)
EOF
}

while [ $# -gt 0 ]; do
  case $1 in
    --files) files=$2; shift 2 ;;
    --large) large=$2; shift 2 ;;
    --large-count) large_count=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --pcopy) pcopy=$2; shift 2 ;;
    --dir) work=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "resume_tree_torture: unknown option '$1'" >&2; usage >&2; exit 2 ;;
  esac
done

# Every entry under $1 with its type, mode, mtime and size, sorted: two trees' listings are equal
# when their metadata is.
listing() { (cd "$1" && find . -printf '%p %y %m %T@ %s\n' | LC_ALL=C sort); }

[ -x "$pcopy" ] || { echo "resume_tree_torture: no pcopy at $pcopy" >&2; exit 2; }
n=$(bytes "$large")
mkdir -p "$work"
trap 'pkill -KILL -f "$work/src" 2>/dev/null || true; rm -rf "$work"' EXIT
require_space "$work" $((3 * (large_count * n + files * 65536) + (1 << 30))) resume_tree_torture
make_resume_tree "$work/src" "$files" "$n" "$large_count"
total=$(find "$work/src" -type f -printf '%s\n' | awk '{ s += $1 } END { printf "%.0f", s }')
sync
t0=$EPOCHREALTIME
"$pcopy" -a --resume "$work/src" "$work/dst"
t1=$EPOCHREALTIME
whole_ms=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%d", (b - a) * 1000 }')
rm -rf "$work/dst"
echo "pcopy: $pcopy; $files small files and $large_count of $large ($total bytes), $rounds rounds;" \
  "a whole copy takes $whole_ms ms; $(nproc) CPUs"
printf '%-5s %-7s %8s %-10s %14s %14s %14s %14s %s\n' round kill at_ms first_exit resumed copied sum-data written result

failures=0
for ((r = 1; r <= rounds; r++)); do
  kind=$([ $((r % 2)) = 0 ] && echo parent || echo both)
  delay_ms=$(( RANDOM % (whole_ms + 1) ))
  "$pcopy" -a --resume "$work/src" "$work/dst" 2>"$work/err1" &
  pid=$!
  sleep "$(awk -v ms="$delay_ms" 'BEGIN { printf "%.3f", ms / 1000 }')"
  workers=$(pgrep -P "$pid" || true)
  # shellcheck disable=SC2086 # $workers: one word per worker
  case $kind in
    parent) kill -KILL "$pid" 2>/dev/null || true ;;
    both) kill -KILL $workers "$pid" 2>/dev/null || true ;;
  esac
  first=0
  wait "$pid" 2>/dev/null || first=$?
  # The workers die with their parent; the kept tree's lock goes with the last of them.
  for _ in $(seq 100); do pgrep -f "$work/src" >/dev/null || break; sleep 0.05; done
  if [ "$first" = 0 ]; then
    # Finished before the kill: nothing to resume this round.
    printf '%-5s %-7s %8s %-10s %14s %14s %14s %14s %s\n' "$r" "$kind" "$delay_ms" 0 - - - - "finished first"
    rm -rf "$work/dst"
    continue
  fi
  # shellcheck disable=SC2016
  out=$(bash -c '"$@" 2>&1; rc=$?; echo "written $(awk "/^write_bytes/ { print \$2 }" /proc/$$/io)"; exit $rc' \
    _ "$pcopy" -a --resume -v "$work/src" "$work/dst") ||
    { echo "round $r: the rerun failed: $(tail -3 <<<"$out")"; failures=$((failures + 1)); continue; }
  written=$(sed -n 's/^written \([0-9]*\)$/\1/p' <<<"$out")
  resumed=0 copied=0 v='' u=''
  read -r v u <<<"$(sed -n 's/^pcopy: resumed: \([0-9.]*\) \([KMG]iB\|bytes\) already durable.*/\1 \2/p' <<<"$out")" || true
  [ -n "$v" ] && resumed=$(to_bytes "$v" "$u")
  v='' u=''
  read -r v u <<<"$(sed -n 's/^pcopy: copied .* (\([0-9.]*\) \([KMG]iB\|bytes\)) in .*/\1 \2/p' <<<"$out")" || true
  [ -n "$v" ] && copied=$(to_bytes "$v" "$u")
  result=ok
  diff -r --no-dereference "$work/src" "$work/dst" >/dev/null || result="DIFFERS"
  [ "$(listing "$work/src")" = "$(listing "$work/dst")" ] || result="$result, metadata differs"
  left=$( (find "$work" -maxdepth 1 -name '.pcopy-*'; find "$work/dst" -name '.pcopy-*') | wc -l)
  [ "$left" = 0 ] || result="$result, $left left behind"
  # The printed figures are rounded to 3 digits: allow 1% of the data.
  diff=$((resumed + copied - total))
  [ "${diff#-}" -le $((total / 100)) ] || result="$result, resumed+copied is not the data"
  [ "$result" = ok ] || failures=$((failures + 1))
  printf '%-5s %-7s %8s %-10s %14s %14s %14s %14s %s\n' "$r" "$kind" "$delay_ms" "$first" "$resumed" "$copied" "$diff" "${written:-?}" "$result"
  rm -rf "$work/dst"
done
echo "$failures of $rounds rounds failed"
[ "$failures" = 0 ]
