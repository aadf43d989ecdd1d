#!/usr/bin/env bash
# tree_scaling.sh: how a tree copy scales with workers on a machine with more CPUs than the
# 2-CPU development machine (README "Copying trees: benchmark", "Scaling with CPUs"):
#   cp -r, cp -a, pcopy -r -j N for each N of --jobs, pcopy -a (default -j)
# on a reproducible tree from pcopy-tree-gen, hot source (read just before each run), new
# destination, shuffled interleaved rounds, same-round ratios to cp -r and cp -a.
#
# Copies are moved aside after their run and deleted after the last round when the free space
# allows it (see tree_bench.sh on why deleting just before a run can slow file creation); with
# too little room each is deleted at once, then --settle seconds pass, outside the timed region.
# pcopy's first copy in each configuration is compared with the source (diff -r): a tool whose
# copy differs gets no figures.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
shape=a seed=1 scale=1 rounds=3 settle=35 jobs="2 4 8 16"
work=${TMPDIR:-/tmp}/pcopy-tree-scaling
pcopy=$repo/build/release/pcopy
gen=$repo/build/release/bench/pcopy-tree-gen
out=""

usage() {
  cat <<EOF
usage: $0 [options]
  --shape a|b|c   the tree (pcopy-tree-gen; default a: 100,000 small files)
  --scale F       multiplies file counts and large sizes (default 1)
  --rounds N      timed rounds (default 3)
  --jobs 'N M'    the worker counts to time pcopy -r with (default '$jobs')
  --settle S      seconds to wait after deleting a copy when space is short (default 35)
  --dir DIR       work directory ($work)
  --pcopy PATH    the pcopy binary ($pcopy)
  --tree-gen PATH the generator ($gen)
  --out DIR       where runs.csv and results.md go (default bench/results/scaling-SHAPE)
EOF
}

while [ $# -gt 0 ]; do
  case $1 in
    --shape) shape=$2; shift 2 ;;
    --scale) scale=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --settle) settle=$2; shift 2 ;;
    --dir) work=$2; shift 2 ;;
    --pcopy) pcopy=$2; shift 2 ;;
    --tree-gen) gen=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "tree_scaling: unknown option '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
out=${out:-$repo/bench/results/scaling-$shape}
say() { echo "tree_scaling: $*" >&2; }
[ -x "$gen" ] || { say "no generator at '$gen'"; exit 1; }
[ -x "$pcopy" ] || { say "no pcopy at '$pcopy'"; exit 1; }
mkdir -p "$work" "$out"
work=$(cd "$work" && pwd)
src=$work/src-$shape-seed$seed-scale$scale trash=$work/trash
rm -rf "$trash" "$work/dst" && mkdir -p "$trash"
if [ ! -e "$src/.complete" ]; then
  rm -rf "$src"
  "$gen" --shape "$shape" --seed "$seed" --scale "$scale" "$src" >&2
  touch "$src/.complete"
fi
tree_kib=$(du -sk "$src" | cut -f1)
say "$(nproc) CPUs, tree $src: $tree_kib KiB"

tools=("cp -r" "cp -a" "pcopy -a")
for j in $jobs; do tools+=("pcopy -r -j $j"); done
command_of() {
  case $1 in
    "cp "*) echo "$1" ;;
    "pcopy "*) echo "$pcopy ${1#pcopy }" ;;
  esac
}
free_kib() { df -Pk "$work" | awk 'NR==2 {print $4}'; }

echo "round,tool,seconds" >"$out/runs.csv"
declare -A checked=()
for ((r = 1; r <= rounds; r++)); do
  mapfile -t order < <(printf '%s\n' "${tools[@]}" | shuf --random-source=<(yes "$seed$r"))
  for t in "${order[@]}"; do
    find "$src" -type f -print0 | xargs -0 -r cat >/dev/null  # hot source
    read -r -a cmd <<<"$(command_of "$t")"
    start=$(date +%s.%N)
    "${cmd[@]}" "$src" "$work/dst"
    end=$(date +%s.%N)
    sync -f "$work" 2>/dev/null || sync
    secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }')
    if [ -z "${checked[$t]:-}" ]; then
      if diff -r "$src" "$work/dst" >/dev/null; then checked[$t]=ok; else checked[$t]=wrong; fi
    fi
    say "round $r: $t ${secs}s (${checked[$t]})"
    echo "$r,$t,$secs" >>"$out/runs.csv"
    mv "$work/dst" "$trash/$r-${t// /_}"
    if [ "$(free_kib)" -lt $((tree_kib * 3)) ]; then
      rm -rf "${trash:?}"/* && sleep "$settle"
    fi
  done
done

# Medians of seconds and of the same-round ratios (baseline seconds / tool seconds).
awk -F, -v bad="$(for t in "${!checked[@]}"; do [ "${checked[$t]}" = wrong ] && echo "$t"; done | paste -sd';')" '
  function median(list,   n, a, i, j, t) {
    n = split(list, a, " ")
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  NR > 1 { s[$1, $2] = $3; secs[$2] = secs[$2] " " $3; rounds[$1] = 1; tools[$2] = 1 }
  END {
    print "| tool | median s | vs cp -r (same round) | vs cp -a |"
    print "|---|---|---|---|"
    for (t in tools) {
      if (index(";" bad ";", ";" t ";")) { print "| " t " | wrong copy | | |"; continue }
      vr = ""; va = ""
      for (r in rounds) { vr = vr " " s[r, "cp -r"] / s[r, t]; va = va " " s[r, "cp -a"] / s[r, t] }
      printf "| %s | %.2f | %.2fx | %.2fx |\n", t, median(secs[t]), median(vr), median(va)
    }
  }' "$out/runs.csv" | { read -r h; read -r d; echo "$h"; echo "$d"; sort; } >"$out/results.md"
cat "$out/results.md"
rm -rf "$trash"
