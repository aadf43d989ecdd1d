# tree_plot.gp: bench/tree_bench.sh's plot, from its results.csv: GB/s and files/s per tool,
# side by side (one tree has one byte count and one file count, so the two bars differ only by
# a factor; both are drawn so that trees of different shapes read alike).
# Variables: csv, png, title, ntools (the number of rows).
set terminal pngcairo size 1100,450 noenhanced
set output png
set datafile separator ","
set style data histograms
set style fill solid 0.8 border -1
set boxwidth 0.7
set key off autotitle columnhead
set grid ytics
set xtics rotate by -30
set yrange [0:*]
set xrange [-0.6:ntools - 0.4]
set multiplot layout 1,2 title "tree copy, shape ".title." (median of rounds)"
set title "GB/s"
plot csv using 5:xtic(1) linecolor rgb "#4477aa"
set title "files/s"
plot csv using 6:xtic(1) linecolor rgb "#cc6677"
unset multiplot
