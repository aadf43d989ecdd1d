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

# "1.50 GiB", "994 MiB", "12.0 KiB", "17 bytes" in pcopy's words, as bytes (rounded as printed).
to_bytes() {
  awk -v v="$1" -v u="$2" 'BEGIN { m = u == "GiB" ? 2^30 : u == "MiB" ? 2^20 : u == "KiB" ? 2^10 : 1; printf "%.0f", v * m }'
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

# A tree under $1 for the resume benchmarks: $2 small files of 1 byte to 64 KiB in 30
# directories (under d0-d4), and $4 large files of $3 bytes (d0/large0, d1/large1, ...).
make_resume_tree() {
  local root=$1 files=$2 size=$3 count=$4 d i
  for ((d = 0; d < 30; d++)); do mkdir -p "$root/d$((d % 5))/e$d"; done
  for ((i = 0; i < files; i++)); do
    head -c $((RANDOM * 2 + 1)) /dev/urandom >"$root/d$((i % 5))/e$((i % 30))/f$i"
  done
  for ((i = 0; i < count; i++)); do head -c "$size" /dev/urandom >"$root/d$((i % 5))/large$i"; done
}

# The MPI benchmarks' set-up (who is the caller, for messages): pcopy-mpi must be in $build;
# Open MPI without the kernel's cross-memory attach (missing in containers) and with its session
# directory on tmpfs: on the copy's disk, its removal at the end of a job waited behind the
# writeback of the copy's dirty pages (ext4's ordered journal), 0.4-0.5 s on a hot 4 GiB copy.
# Sets `mpi`, the mpirun command line to start ranks with.
mpi_setup() {
  [ -x "$build/pcopy-mpi" ] || { echo "$1: no pcopy-mpi in $build (MPI not found?)" >&2; exit 2; }
  export OMPI_MCA_btl_vader_single_copy_mechanism=none
  export OMPI_MCA_orte_tmpdir_base=${OMPI_MCA_orte_tmpdir_base:-/dev/shm}
  mpi=(mpirun --allow-run-as-root --oversubscribe)
}

# The sources of the file-and-tree comparisons (who is the caller, for messages), in $work: `file`
# of $2 bytes, and `tree`, $3 small files and two large ones of $4 bytes; checked against the
# free space first. Sets `states`: hot, and cold too as root (it drops the caches).
file_and_tree() {
  local who=$1 n=$2 files=$3 l=$4
  require_space "$work" $((2 * (n + 2 * l + files * 65536) + (1 << 30))) "$who"
  head -c "$n" /dev/urandom >"$work/file"
  make_resume_tree "$work/tree" "$files" "$l" 2
  states="hot"
  if [ "$(id -u)" -eq 0 ]; then states="hot cold"; fi
}

# One timed copy of the comparisons (who is the caller, for messages): the command after $2 and
# $3 copies $work/$2 (file or tree) to $work/out, in cache state $3 (hot: SOURCE read once
# before; cold: every cache dropped). Prints its wall time; stops if the copy differs.
timed_copy() {
  local who=$1 what=$2 state=$3 t0 t1
  shift 3
  rm -rf "$work/out"
  sync
  if [ "$state" = cold ]; then
    echo 3 >/proc/sys/vm/drop_caches
  else
    tar -cf - -C "$work" "$what" | cat >/dev/null
  fi
  t0=$EPOCHREALTIME
  "$@" >/dev/null
  t1=$EPOCHREALTIME
  if [ "$what" = file ]; then
    cmp -s "$work/file" "$work/out" || { echo "$who: $* made a different file" >&2; exit 1; }
  else
    diff -rq "$work/tree" "$work/out" >/dev/null || { echo "$who: $* made a different tree" >&2; exit 1; }
  fi
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }'
}
