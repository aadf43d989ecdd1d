#!/usr/bin/env bash
# Fails when a folder of src/ includes a header of a folder above it, or when two headers of
# src/ include each other in a cycle. The layers, lowest first:
#   base  status, descriptors, units, random bytes
#   os    the system-call seam, files, signals, child processes
#   copy  the copy kernels: read/write loops, transfer methods, pacing, digests
#   plan  which bytes go to which worker, in which order
#   exec  the executors: forked workers, their shared slots, the process pool, tree workers
#   tree  copying many files and trees: the walk, the ready queue, completion bottom-up
#   app   options, the jobs of the command line, progress views, the demo
#   mpi   pcopy-mpi: the copy across the ranks of an MPI job (built only where MPI is found)
set -euo pipefail
cd "$(dirname "$0")/../src"
layers=(base os copy plan exec tree app mpi)
rank() { local i; for i in "${!layers[@]}"; do [ "${layers[$i]}" = "$1" ] && echo "$i" && return; done; echo -1; }

bad=0
for dir in "${layers[@]}"; do
  own=$(rank "$dir")
  for f in "$dir"/*.h "$dir"/*.cc; do
    [ -e "$f" ] || continue
    while IFS= read -r inc; do
      target=${inc%%/*}
      r=$(rank "$target")
      if [ "$r" -lt 0 ]; then
        echo "check-layers: $f includes \"$inc\": not in a layer folder" >&2; bad=1
      elif [ "$r" -gt "$own" ]; then
        echo "check-layers: $f ($dir) includes \"$inc\" ($target), a higher layer" >&2; bad=1
      fi
    done < <(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f")
  done
done

# Cycles between files: a depth-first search over "file includes file" (a .cc counts as its
# header's unit, so a.cc -> b.h and b.cc -> a.h is a cycle too).
python3 - <<'PY' || bad=1
import os, re, sys
units = {}
for d in os.listdir('.'):
    if not os.path.isdir(d): continue
    for f in os.listdir(d):
        if f.endswith(('.h', '.cc')):
            unit = d + '/' + f.rsplit('.', 1)[0]
            deps = units.setdefault(unit, set())
            for line in open(os.path.join(d, f)):
                m = re.match(r'#include "([^"]+)\.h"', line)
                if m and m.group(1) != unit: deps.add(m.group(1))
state = {}
def visit(u, path):
    state[u] = 1
    for v in sorted(units.get(u, ())):
        if state.get(v) == 1:
            print('check-layers: include cycle: ' + ' -> '.join(path[path.index(v):] + [v]), file=sys.stderr)
            sys.exit(1)
        if v not in state: visit(v, path + [v])
    state[u] = 2
for u in sorted(units):
    if u not in state: visit(u, [u])
PY
[ "$bad" -eq 0 ] && echo "check-layers: no upward include, no cycle"
exit "$bad"
