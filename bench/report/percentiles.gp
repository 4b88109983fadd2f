# percentiles.gp - latency by percentile, HdrHistogram style, one line per
# configuration.  Variables (gnuplot -e): files and titles (space-separated
# lists of the same length: HdrHistogram text tables from mwrt-load --hdr,
# and their names), out (the PNG), heading.
#
# The x axis is 1/(1-percentile) on a log scale, so 90%, 99%, 99.9%... are
# equally spaced and the tail gets the room; the table's fourth column is
# exactly that.  Its last row (100%) has no fourth column and is skipped.
set terminal pngcairo size 1200,650 font ",11" noenhanced
set output out
set title heading
set logscale x
set logscale y
set xrange [1:1000000]
set xtics ("0%%" 1, "90%%" 10, "99%%" 100, "99.9%%" 1000, "99.99%%" 10000, "99.999%%" 100000, "99.9999%%" 1000000)
set format y "%g"
set xlabel "percentile"
set ylabel "latency (ms, from the intended send time)"
set grid xtics ytics mytics
set key outside right top
# Nine configurations: nine colours (gnuplot's default cycle has eight),
# mwrt's dashed by policy, the peers solid and thicker.
set linetype 1 lc rgb "#d62728" lw 2 dt 1
set linetype 2 lc rgb "#ff9896" lw 2 dt 1
set linetype 3 lc rgb "#1f77b4" lw 2 dt 2
set linetype 4 lc rgb "#aec7e8" lw 2 dt 2
set linetype 5 lc rgb "#2ca02c" lw 2 dt 3
set linetype 6 lc rgb "#98df8a" lw 2 dt 3
set linetype 7 lc rgb "#000000" lw 3 dt 1
set linetype 8 lc rgb "#9467bd" lw 3 dt 1
set linetype 9 lc rgb "#8c564b" lw 3 dt 4
plot for [i=1:words(files)] word(files, i) using 4:1 with lines lt i title word(titles, i)
