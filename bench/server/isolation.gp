# isolation.gp - one worker collects, the other's client keeps sending:
# that client's round trips over time, one panel per mode, the collection
# shaded.  Variables (gnuplot -e): dir (isolation.py's OUT), modes (file
# stems, space-separated), labels (the modes' flags, '|'-separated), out
# (the PNG).  Each DIR/STEM.dat holds "ms since the collection began,
# round trip ms"; DIR/STEM.gc "start ms,end ms".
n = words(modes)
set terminal pngcairo size 1100,(260 * n + 60) font ",11" noenhanced
set output out
set datafile separator ","
set logscale y
set yrange [0.01:2000]
set format y "%g"
set grid ytics
set ylabel "round trip ms"
label(i) = system(sprintf("echo '%s' | cut -d'|' -f%d", labels, i))
set multiplot layout n,1 title "Round trips of a client of worker 1 while worker 0 collects 1M objects"
do for [i = 1:n] {
    stem = dir . "/" . word(modes, i)
    gcend = real(system(sprintf("cut -d, -f2 '%s.gc'", stem)))
    set title label(i)
    set xrange [-200:gcend + 100 > 400 ? gcend + 100 : 400]
    if (i == n) { set xlabel "ms since the collection began" }
    set object 1 rect from 0, graph 0 to gcend, graph 1 fc rgb "#fde0dd" fs solid 0.6 behind
    plot stem . ".dat" using 1:2 with points pt 7 ps 0.3 lc rgb "#1f77b4" title "round trip", \
         1/0 with boxes fc rgb "#fde0dd" fs solid title "the other worker's GC.COLLECT"
    unset object 1
}
unset multiplot
