# route-ratios.awk: the ratios of `make bench`, from `go test -bench` output.
# go test -count N runs each route benchmark's sub-benchmarks in turn, N
# times over: the k-th result of each route forms round k, the ratios are
# taken within a round (where the machine's other load is most alike), and
# the median over the rounds is printed. A ratio is throughput relative to
# the reference: reference ns/op ÷ route ns/op.
#
#   go test -run '^$' -bench Route -count 6 ./mockserver | awk -f scripts/route-ratios.awk

function median(list, n,    i, j, t, v) {
	n = split(list, v, " ")
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && v[j - 1] + 0 > v[j] + 0; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
	return v[int((n + 1) / 2)]
}

/^BenchmarkRoute(Wire|HTTP)\// {
	split($1, parts, "/")
	bench = parts[1]
	route = parts[2]
	sub(/-[0-9]+$/, "", route)
	for (i = 2; i < NF; i++)
		if ($(i + 1) == "ns/op") ns = $i
	key = bench SUBSEP route
	round = ++seen[key]
	nsop[key, round] = ns
	benches[bench] = 1
	if (round > rounds[bench]) rounds[bench] = round
}

function ratio(bench, label, num, den, target,    k, list, r) {
	list = ""
	for (k = 1; k <= rounds[bench]; k++)
		if ((bench, num, k) in nsop && (bench, den, k) in nsop)
			list = list " " nsop[bench, num, k] / nsop[bench, den, k]
	if (list == "") return
	r = median(list)
	printf "  %-48s %.2fx  (target %.2fx: %s)\n", label, r, target, (r >= target ? "meets" : "MISSES")
}

END {
	for (b in benches) {
		printf "%s, medians of %d per-round ratios:\n", b, rounds[b]
		ratio(b, "uuid ÷ bare-uuid-header", "bare-uuid-header", "uuid", 0.95)
		ratio(b, "jwt (cached) ÷ bare-jwt-header", "bare-jwt-header", "jwt", 0.95)
		ratio(b, "uuid-logged ÷ uuid (log on ÷ quiet)", "uuid", "uuid-logged", 0.90)
		ratio(b, "jwt-logged ÷ jwt (log on ÷ quiet)", "jwt", "jwt-logged", 0.90)
		ratio(b, "uuid ÷ uuid-nometrics (metrics on ÷ off)", "uuid-nometrics", "uuid", 0.95)
		ratio(b, "jwt ÷ jwt-nometrics (metrics on ÷ off)", "jwt-nometrics", "jwt", 0.95)
	}
}
