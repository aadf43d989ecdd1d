#!/usr/bin/env bash
# tree_bench.sh: times copies of a whole tree (README "Copying trees: benchmark"):
#   cp -r, cp -a, rsync -a, tar | tar, pcopy -r, pcopy -a
# on a reproducible tree from pcopy-tree-gen, hot source, new destination, in shuffled
# interleaved rounds. Only same-round ratios are worth quoting on a shared machine.
#
# The root file system here is ext4 without a journal: creating files scans past inodes deleted in
# the last ~30 s, so a copy made just after `rm -rf` of the previous one is several times slower
# (and parallel tools gain most). So the previous copy is moved aside (same file system) after
# its run, and the moved copies are deleted in batches as large as the free space allows (at
# best once, after the last run), each followed by --settle seconds of waiting, all outside the
# timed region. Each tool's first copy is checked against the source (names, types,
# modes, sizes, contents; times to the second for the tools that keep them).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
shape=a seed=1 scale=1 rounds=5 settle=35
work=${TMPDIR:-/tmp}/pcopy-tree-bench
pcopy=$repo/build/release/pcopy
gen=$repo/build/release/bench/pcopy-tree-gen
out=""
tools="cp -r;cp -a;rsync -a;tar|tar;pcopy -r;pcopy -a"
remove_tree=0

usage() {
  cat <<EOF
usage: $0 [options]
  --shape a|b|c|million  the tree (pcopy-tree-gen; default a: 100,000 small files)
  --scale F              multiplies file counts and large sizes (default 1)
  --seed N               the tree's seed, also the seed of the run orders (default 1)
  --rounds N             timed rounds (default 5)
  --settle S             seconds to wait after deleting old copies (default 35)
  --dir DIR              work directory: source tree, copies, trash ($work)
  --pcopy PATH           the pcopy binary ($pcopy)
  --tree-gen PATH        the generator ($gen)
  --tools 'A;B'          the tools to time, ';'-separated ($tools)
  --out DIR              where runs.csv, results.csv, results.md, throughput.png go
                         (default bench/results/tree-SHAPE)
  --remove-tree          delete the source tree at the end (kept by default for reuse)
EOF
}

while [ $# -gt 0 ]; do
  case $1 in
    --shape) shape=$2; shift 2 ;;
    --scale) scale=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --settle) settle=$2; shift 2 ;;
    --dir) work=$2; shift 2 ;;
    --pcopy) pcopy=$2; shift 2 ;;
    --tree-gen) gen=$2; shift 2 ;;
    --tools) tools=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --remove-tree) remove_tree=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "tree_bench: unknown option '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
out=${out:-$repo/bench/results/tree-$shape}
say() { echo "tree_bench: $*" >&2; }
die() { say "$*"; exit 1; }

[ -x "$gen" ] || die "no generator at '$gen' (cmake --build --preset release)"
[ -x /usr/bin/time ] || die "GNU time is missing (scripts/install-deps.sh)"
IFS=';' read -r -a wanted <<<"$tools"
for t in "${wanted[@]}"; do
  case $t in
    "cp -r"|"cp -a"|"tar|tar"|"pcopy -r"|"pcopy -a") ;;
    "rsync -a") command -v rsync >/dev/null || die "rsync is missing (scripts/install-deps.sh)" ;;
    *) die "unknown tool '$t'" ;;
  esac
done
mkdir -p "$work" "$out"
work=$(cd "$work" && pwd)
src=$work/src-$shape-seed$seed-scale$scale dst=$work/dst trash=$work/trash

# --- pcopy: does this build copy trees yet? --------------------------------------------------
# A tiny tree, copied with the same flags as the timed runs; both modes are probed.
probe_pcopy() {  # MODE: -r or -a
  local p=$work/probe
  rm -rf "$p" && mkdir -p "$p/src/d" && echo probe >"$p/src/d/f"
  local ok=0
  "$pcopy" -q "$1" "$p/src" "$p/dst" >"$p.log" 2>&1 && cmp -s "$p/src/d/f" "$p/dst/d/f" && ok=1
  rm -rf "$p" "$p.log"
  [ $ok = 1 ]
}
tool_list=()
for t in "${wanted[@]}"; do
  if [[ $t == pcopy* ]]; then
    if [ ! -x "$pcopy" ]; then
      say "no pcopy binary at '$pcopy': '$t' is skipped"; continue
    fi
    if ! probe_pcopy "${t#pcopy }"; then
      say "'$pcopy' does not copy trees with '${t#pcopy }' yet: '$t' is skipped"; continue
    fi
  fi
  tool_list+=("$t")
done
[ ${#tool_list[@]} -gt 0 ] || die "no tool left to time"

# --- the source tree, and room for the copies -------------------------------------------------
read -r _ files _ dirs _ bytes < <("$gen" --plan --shape "$shape" --seed "$seed" --scale "$scale" x)
per_copy=$((bytes + files * 4096 + dirs * 4096))  # whole blocks per file: an upper bound
avail=$(($(df -P -k "$work" | awk 'NR==2 {print $4}') * 1024))
total=$(($(df -P -k "$work" | awk 'NR==2 {print $2}') * 1024))
spare=$((total / 20 > 1 << 30 ? total / 20 : 1 << 30))
[ -f "$src.done" ] || avail=$((avail - per_copy))
# Copies the trash may hold, beside the one in $dst: at best all of them, deleted after the last
# run (deleting 100,000 files took minutes here, and the settling after it half a minute).
batch=$(((avail - spare) / per_copy - 1))
[ $batch -gt $((rounds * ${#tool_list[@]})) ] && batch=$((rounds * ${#tool_list[@]}))
[ $batch -ge 1 ] || die "not enough space in '$work' for the tree and two copies of it" \
                        "($per_copy bytes each, keeping $spare spare): use a smaller --scale"

if [ ! -f "$src.done" ]; then
  rm -rf "$src"
  say "generating shape $shape (seed $seed, scale $scale): $files files, $dirs dirs, $bytes bytes"
  "$gen" --shape "$shape" --seed "$seed" --scale "$scale" "$src" >/dev/null
  sync -f "$src"
  touch "$src.done"
fi

# --- one timed run ------------------------------------------------------------------------------
warm() {  # reads every file of the tree through the page cache
  find "$1" -type f -print0 | xargs -0 -r cat >/dev/null
}
command_for() {  # TOOL -> cmd=(...)
  case $1 in
    "cp -r") cmd=(cp -r "$src" "$dst") ;;
    "cp -a") cmd=(cp -a "$src" "$dst") ;;
    "rsync -a") cmd=(rsync -a "$src/" "$dst") ;;
    "tar|tar") cmd=(bash -c 'set -o pipefail; tar -C "$0" -cf - . | tar -C "$1" -xf -'
                    "$src" "$dst") ;;
    "pcopy -r"|"pcopy -a") cmd=("$pcopy" -q "${1#pcopy }" "$src" "$dst") ;;
  esac
}
keeps_times() { [[ $1 != *"-r" ]]; }
# A listing of the tree: type, mode, size (files only) and, if asked, mtime to the second.
listing() {  # DIR WITH_TIMES
  local fmt='%y %m %s %p' dfmt='%y %m - %p'
  if [ "$2" = 1 ]; then fmt='%y %m %s %Ts %p' dfmt='%y %m - %Ts %p'; fi
  (cd "$1" && find . \( -type d -printf "$dfmt\n" \) -o -printf "$fmt\n" | LC_ALL=C sort)
}
verify() {  # TOOL: 0 if $dst is a faithful copy of $src
  local t=0
  keeps_times "$1" && t=1
  cmp -s <(listing "$src" $t) <(listing "$dst" $t) && diff -rq "$src" "$dst" >/dev/null
}
empty_trash() {
  rm -rf "$trash" "$dst"
  mkdir -p "$trash"
  sync -f "$work"
  say "settling ${settle}s after deleting old copies"
  sleep "$settle"
}

runs=$out/runs.csv
echo "round,tool,seconds,maxrss_kib,status" >"$runs"
declare -A verified=()
copies=0
empty_trash
RANDOM=$seed
for ((round = 1; round <= rounds; round++)); do
  order=("${tool_list[@]}")
  for ((i = ${#order[@]} - 1; i > 0; i--)); do  # Fisher-Yates, from the seeded $RANDOM
    j=$((RANDOM % (i + 1)))
    tmp=${order[i]} order[i]=${order[j]} order[j]=$tmp
  done
  for t in "${order[@]}"; do
    if [ $copies -ge $batch ]; then empty_trash; copies=0; fi
    command_for "$t"
    [ "$t" = "tar|tar" ] && mkdir "$dst"
    warm "$src"
    status=ok
    start=$EPOCHREALTIME
    /usr/bin/time -f %M -o "$work/rss" "${cmd[@]}" >"$work/log" 2>&1 || status=failed
    end=$EPOCHREALTIME
    sync -f "$work"
    secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.4f", b - a }')
    rss=$(tail -n 1 "$work/rss")
    if [ $status = ok ] && [ -z "${verified[$t]:-}" ]; then
      if verify "$t"; then verified[$t]=1; else status=wrong; verified[$t]=0; fi
    fi
    [ "${verified[$t]:-}" = 0 ] && status=wrong  # a broken tool cannot win
    [ $status = failed ] && say "$t failed: $(tail -n 3 "$work/log" | tr '\n' ' ')"
    say "round $round: $t ${secs}s, peak RSS ${rss} KiB, $status"
    echo "$round,$t,$secs,$rss,$status" >>"$runs"
    mv "$dst" "$trash/$round-${t//[^a-z]/_}"
    copies=$((copies + 1))
  done
done

# --- the report ---------------------------------------------------------------------------------
conditions="shape $shape (seed $seed, scale $scale): $files files, $dirs directories, $bytes bytes;"
conditions+=" $rounds rounds, shuffled; hot source (read just before each run); new destination;"
conditions+=" previous copies moved aside, deleted in batches of $batch followed by ${settle}s"
conditions+=" outside the timed region; $(nproc) CPUs; $(uname -r)"
TOOLS=$(IFS=';'; echo "${tool_list[*]}") FILES=$files BYTES=$bytes SHAPE=$shape COND=$conditions \
  awk -F, -v csv="$out/results.csv" -f "$here/tree_report.awk" "$runs" | tee "$out/results.md"
if command -v gnuplot >/dev/null; then
  gnuplot -e "csv='$out/results.csv'; png='$out/throughput.png'; title='$shape'; ntools=${#tool_list[@]}" \
    "$here/tree_plot.gp" 2>/dev/null || say "gnuplot failed; no plot"
fi
say "wrote $runs, $out/results.md, $out/results.csv and the plot"
say "deleting the copies"
rm -rf "$trash" "$work/rss" "$work/log"
if [ $remove_tree = 1 ]; then rm -rf "$src" "$src.done"; fi
