# bench/cpu.sh: sourced by the benchmarks that report CPU time per request.

# CPU clock ticks used so far by a process and all its descendants, the
# reaped ones included (cutime/cstime), e.g. the backends of finished clients
tree_cpu() {
	local pid=$1 total=0 c
	read -r -a f < <(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null) || { echo 0; return; }
	total=$((f[11] + f[12] + f[13] + f[14]))
	for c in $(cat /proc/"$pid"/task/*/children 2>/dev/null); do
		total=$((total + $(tree_cpu "$c")))
	done
	echo "$total"
}
TCK=$(getconf CLK_TCK)

# CPU microseconds per item: ticks items ("-" when there were none)
per_item() {
	if [ "${2:-0}" -gt 0 ] 2>/dev/null; then echo "scale=0; 1000000 * $1 / $TCK / $2" | bc; else echo -; fi
}
