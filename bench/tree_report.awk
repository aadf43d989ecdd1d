# tree_report.awk: the tables of bench/tree_bench.sh, from its runs.csv
# (round,tool,seconds,maxrss_kib,status). Prints Markdown; writes the summary to the file `csv`.
# Environment: TOOLS (';'-separated, in table order), FILES, BYTES, SHAPE, COND (conditions).
# Ratios are medians of same-round ratios: base's time / the tool's time in the same round.

function median(v, n,    i, j, x) {  # sorts v[1..n] in place
  for (i = 2; i <= n; i++) {
    x = v[i]
    for (j = i - 1; j >= 1 && v[j] > x; j--) v[j + 1] = v[j]
    v[j + 1] = x
  }
  if (n == 0) return ""
  return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
}

function ratio(tool, base,    r, n, v) {
  n = 0
  for (r = 1; r <= last_round; r++) {
    if ((r, tool) in secs && (r, base) in secs) v[++n] = secs[r, base] / secs[r, tool]
  }
  return n ? sprintf("%.2fx", median(v, n)) : "-"
}

function target(tool, base, want,    got, verdict) {
  got = ratio(tool, base)
  if (got == "-") return
  verdict = (got + 0 >= want) ? "met" : "not met"
  targets++
  printf "- %s vs %s: %s (target %sx: %s)\n", tool, base, got, want, verdict
}

NR > 1 {
  if ($1 > last_round) last_round = $1
  if ($5 == "ok") {
    secs[$1, $2] = $3
    times[$2, ++runs[$2]] = $3
    if ($4 > peak[$2]) peak[$2] = $4
  } else {
    failures[$2]++
  }
}

END {
  ntools = split(ENVIRON["TOOLS"], tools, ";")
  files = ENVIRON["FILES"]; bytes = ENVIRON["BYTES"]
  print "Conditions: " ENVIRON["COND"] "\n"
  print "| tool | runs ok | failed or wrong | median s | GB/s | files/s | vs cp -r | vs cp -a | vs rsync -a | peak RSS MiB |"
  print "|---|---|---|---|---|---|---|---|---|---|"
  print "tool,runs,failures,median_seconds,gbps,files_per_s,ratio_cp_r,ratio_cp_a,ratio_rsync_a,peak_rss_mib" > csv
  for (k = 1; k <= ntools; k++) {
    t = tools[k]; n = runs[t] + 0
    for (i = 1; i <= n; i++) v[i] = times[t, i]
    m = median(v, n)
    gbps = n ? sprintf("%.3f", bytes / m / 1e9) : "-"
    fps = n ? sprintf("%.0f", files / m) : "-"
    med = n ? sprintf("%.3f", m) : "-"
    mib = n ? sprintf("%.1f", peak[t] / 1024) : "-"
    rr = ratio(t, "cp -r"); ra = ratio(t, "cp -a"); rs = ratio(t, "rsync -a")
    shown = t; gsub(/\|/, "\\|", shown)  # "tar|tar" must not split a Markdown cell
    printf "| %s | %d | %d | %s | %s | %s | %s | %s | %s | %s |\n", shown, n, failures[t], med, gbps,
           fps, rr, ra, rs, mib
    printf "\"%s\",%d,%d,%s,%s,%s,%s,%s,%s,%s\n", t, n, failures[t], med, gbps, fps, rr, ra, rs,
           mib > csv
  }
  print "\nThe issue's targets (where pcopy was timed):"
  if (ENVIRON["SHAPE"] == "b") {
    target("pcopy -r", "cp -r", 1.3)
  } else {
    target("pcopy -r", "cp -r", 2); target("pcopy -a", "cp -a", 2); target("pcopy -a", "rsync -a", 3)
  }
  if (!targets) print "- none: pcopy was not timed"
}
