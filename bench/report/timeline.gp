# timeline.gp - latency over time with the server's collections marked.
# Variables (gnuplot -e): csv (mwrt-load --csv with --interval 0.1: second,
# requests, throughput, p50_us, p99_us, max_us, errors, timeouts), gc
# (second,gen,collections,pause_ms per INFO gc poll that saw collections;
# empty for servers without a collector), out (the PNG), heading.
#
# p99 and max per interval as lines; each poll that saw collections as a
# point at the height of the pause it added (gen 2 red, gen 1 orange, gen 0
# grey), and gen 1 and gen 2 also as a vertical line, so a latency spike
# and the collection behind it line up.
set terminal pngcairo size 1100,550 font ",11" noenhanced
set output out
set title heading
set datafile separator ","
stats csv using ($6/1000.0) nooutput
top = STATS_max > 0 ? STATS_max * 3 : 10
set logscale y
set yrange [0.01:top]
set format y "%g"
set xlabel "seconds since the run started"
set ylabel "ms"
set grid ytics
set key below horizontal
plot csv using 1:($5 > 0 ? $5/1000.0 : 1/0) with lines lw 1.5 lc rgb "#1f77b4" title "p99 per 100 ms", \
     csv using 1:($6 > 0 ? $6/1000.0 : 1/0) with lines lw 1 lc rgb "#2ca02c" title "max per 100 ms", \
     gc using ($2 == 2 ? $1 : 1/0):(0.01):(0):(top) with vectors nohead dt 2 lc rgb "red" notitle, \
     gc using ($2 == 1 ? $1 : 1/0):(0.01):(0):(top) with vectors nohead dt 3 lc rgb "orange" notitle, \
     gc using ($2 == 2 ? $1 : 1/0):($4 > 0.01 ? $4 : 0.01) with points pt 7 ps 1.5 lc rgb "red" title "gen 2 collections (pause ms)", \
     gc using ($2 == 1 ? $1 : 1/0):($4 > 0.01 ? $4 : 0.01) with points pt 5 ps 1.0 lc rgb "orange" title "gen 1 collections (pause ms)", \
     gc using ($2 == 0 ? $1 : 1/0):($4 > 0.01 ? $4 : 0.01) with points pt 1 ps 0.6 lc rgb "gray50" title "gen 0 collections (pause ms)"
