# percentiles.gp - latency by percentile, HdrHistogram style, one line per
# configuration.  Variables (gnuplot -e): files and titles (space-separated
# lists of the same length: HdrHistogram text tables from mwrt-load --hdr,
# and their names), out (the PNG), heading.
#
# The x axis is 1/(1-percentile) on a log scale, so 90%, 99%, 99.9%... are
# equally spaced and the tail gets the room; the table's fourth column is
# exactly that.  Its last row (100%) has no fourth column and is skipped.
set terminal pngcairo size 1100,650 font ",11" noenhanced
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
set key top left box opaque
plot for [i=1:words(files)] word(files, i) using 4:1 with lines lw 2 title word(titles, i)
