# bench_lib.sh: what the benchmark scripts share, sourced by them: sizes, medians, spreads.

# "64K", "1M", "2G" (powers of 1024) as bytes; a bare number is bytes.
bytes() {
  local n=${1%[KkMmGg]}
  case $1 in
    *[Kk]) echo $((n << 10)) ;;
    *[Mm]) echo $((n << 20)) ;;
    *[Gg]) echo $((n << 30)) ;;
    *) echo "$n" ;;
  esac
}

# The median of the numbers on stdin, one per line.
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# "min-max" of the numbers on stdin.
spread() { sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%.3f-%.3f", lo, hi }'; }

# Fails unless dir's file system has `need` bytes free for an unprivileged writer: no benchmark
# may fill the disk.
require_space() {
  local dir=$1 need=$2 who=$3 avail
  avail=$(( $(stat -f -c '%a * %S' "$dir") ))
  if [ "$need" -gt "$avail" ]; then
    echo "$who: $dir has $((avail >> 20)) MiB free; this run needs $((need >> 20)) MiB" >&2
    exit 2
  fi
}
