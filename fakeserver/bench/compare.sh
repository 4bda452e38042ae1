#!/usr/bin/env bash
# compare.sh: the reference server beside the physical-limit baselines, in one run.
#
#   fakeserver/bench/compare.sh [SEGLOAD_DIR]
#
# It builds `upspec` (from this repository) and segload with its two baselines (from
# SEGLOAD_DIR, default $SEGLOAD or ../shared/tools/segload next to the repository), starts each
# server on a free loopback port, runs the same segload workloads against each, stops it, and
# prints a table of figures and ratios. Every server gets a fresh process (and a fresh data
# directory) per workload, so that one workload's memory and files do not weigh on the next.
#
# Targets:
#   sink      segload/baseline/sink: reads and discards every body, answers 201
#   writeat   segload/baseline/writeat: WriteAt into one file per session, answers 201 (the
#             physical limit of a directory; not in the ranges and peak-memory workloads)
#   memory    upspec serve (memory store)
#   dir       upspec serve --data-dir (fsync off)
#
# Workloads (each line of the table):
#   ingest-1MiB     one file of $SIZE in 1 MiB segments (MiB/s)
#   ingest-64KiB    one file of $SIZE_SMALL in 64 KiB segments (MiB/s)
#   probe-2B        $PROBES 2-byte probes (bytes 0-1/T) of one stored session (req/s)
#   16x1KiB         16 sessions at once, 1 KiB segments, new files as they complete (req/s)
#   ranges-N        $PROBES 2-byte probes of a session holding N disjoint ranges, N = 10, 1000,
#                   10000 (req/s); the time per request must grow no faster than the list
#   peak memory     VmHWM of the server after a $SIZE upload, and after 20000 idle
#                   one-byte sessions (sent pipelined on one connection), on a data directory
#
# With BASE set to another upspec binary (an earlier build, say), a column `base` runs it with
# --data-dir beside `dir` in the ingest, probe and 16x1KiB workloads, and a second table
# gives dir/base: a change measured against the build before it, in the same run.
#
# Environment: SIZE (default 1GiB; an integer of MiB may also be given as SIZE_MIB),
# SIZE_SMALL (256MiB), PROBES (3000), IDLE (20000), BASE (above), ROUNDS (3: every workload runs against
# every target once a round, and the table keeps each one's best round, which cancels most of
# the drift of a shared machine; peak memory keeps the largest), WORK (scratch directory, default a new
# one under /tmp, removed at the end), KEEP=1 keeps it. Needs bash, awk, ss, go.
#
# It is a manual tool, never run by `go test`. Everything it starts is stopped on exit
# (trap), every segload run has --timeout and --max-time, every pipelined load runs under
# timeout(1). Absolute figures drift with the machine; compare the ratios of one run.
#
# A run on the development machine (2 cores, quiet, Go 1.26, ext4 without a journal, fsync
# off, best of 3; the whole table, earlier runs and what they say are in
# fakeserver/bench/README.md):
#
#   workload                     sink    writeat     memory        dir  mem/sink  dir/sink  dir/writeat
#   ingest-1MiB (MiB/s)          1357       1090        837        997      0.62      0.74         0.92
#   ingest-64KiB (MiB/s)          579        433        315        358      0.54      0.62         0.83
#   probe-2B (req/s)            11040      11401      11017      12612      1.00      1.14         1.11
#   16x1KiB (req/s)             49236      33364      40259      30113      0.82      0.61         0.90
#   peak memory (VmHWM, MiB): dir after a 1024MiB upload 20.7; dir with 20000 idle sessions 45.6
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
SEGLOAD_DIR=${1:-${SEGLOAD:-$repo/../shared/tools/segload}}
SIZE_MIB=${SIZE_MIB:-1024}
SIZE=${SIZE:-${SIZE_MIB}MiB}
SIZE_SMALL=${SIZE_SMALL:-256MiB}
PROBES=${PROBES:-3000}
IDLE=${IDLE:-20000}
MAX_TIME=${MAX_TIME:-300s}
ROUNDS=${ROUNDS:-3}

base=
if [[ -n ${BASE:-} ]]; then
	if [[ ! -x $BASE ]]; then
		echo "compare.sh: BASE=$BASE is no executable upspec" >&2
		exit 2
	fi
	base=base
fi

if [[ ! -f $SEGLOAD_DIR/main.go || ! -d $SEGLOAD_DIR/baseline/sink ]]; then
	echo "compare.sh: no segload at $SEGLOAD_DIR; pass its directory as the first argument or in \$SEGLOAD" >&2
	exit 2
fi
SEGLOAD_DIR=$(cd "$SEGLOAD_DIR" && pwd)

WORK=${WORK:-$(mktemp -d /tmp/upspec-compare.XXXXXX)}
mkdir -p "$WORK/bin"
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	if [[ ${KEEP:-0} != 1 ]]; then
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "building upspec and segload into $WORK/bin" >&2
(cd "$repo" && go build -o "$WORK/bin/upspec" ./cmd/upspec)
(cd "$SEGLOAD_DIR" && go build -o "$WORK/bin/" ./...)

# start NAME CMD...: starts a server listening on 127.0.0.1:0 (the command must listen there)
# and sets PID and PORT.
start() {
	local name=$1
	shift
	"$@" >"$WORK/$name.log" 2>&1 &
	PID=$!
	pids+=("$PID")
	PORT=
	local i
	for i in $(seq 100); do
		PORT=$(ss -Hltnp 2>/dev/null | awk -v p="pid=$PID," 'index($0, p) { n = split($4, a, ":"); print a[n]; exit }')
		[[ -n $PORT ]] && return 0
		kill -0 "$PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "compare.sh: $name did not start listening:" >&2
	cat "$WORK/$name.log" >&2
	exit 1
}

# stop: stops the server started last.
stop() {
	kill "$PID" 2>/dev/null || true
	wait "$PID" 2>/dev/null || true
	local keep=()
	local p
	for p in "${pids[@]}"; do
		[[ $p != "$PID" ]] && keep+=("$p")
	done
	pids=("${keep[@]}")
}

# serve TARGET: starts the server of a target (sink, writeat, memory, dir, base) with a fresh
# directory, DIR. Directories are removed at the end (drop removes the large ones at once):
# on an ext4 without a journal, creating a file scans past every inode freed in the last
# half minute or so, so that removing a directory of many files (20000 idle sessions) would
# slow down every file the next workloads create.
serial=0
serve() {
	serial=$((serial + 1))
	DIR="$WORK/data-$1-$serial"
	mkdir -p "$DIR"
	case $1 in
	sink) start sink "$WORK/bin/sink" -addr 127.0.0.1:0 ;;
	writeat) start writeat "$WORK/bin/writeat" -addr 127.0.0.1:0 -dir "$DIR" ;;
	memory) start memory "$WORK/bin/upspec" serve --listen 127.0.0.1:0 ;;
	dir) start dir "$WORK/bin/upspec" serve --listen 127.0.0.1:0 --data-dir "$DIR" ;;
	base) start base "$BASE" serve --listen 127.0.0.1:0 --data-dir "$DIR" ;;
	esac
}

# drop: removes the directory of the server started last, once stopped: for the ingest runs,
# whose few large files would otherwise be written back to the disk during the next ones.
drop() { rm -rf "$DIR"; }

# load FIELD ARGS...: runs segload against the server started last and prints FIELD of its
# JSON summary (mib_s or req_s). A run with errors or failed checks stops the script.
load() {
	local field=$1
	shift
	local out
	if ! out=$("$WORK/bin/segload" --target "http://127.0.0.1:$PORT/upload" --json --timeout 60s --max-time "$MAX_TIME" "$@"); then
		echo "compare.sh: segload $* failed:" >&2
		echo "$out" >&2
		exit 1
	fi
	local json
	json=$(grep '^{' <<<"$out" | tail -1)
	if ! grep -q '"errors":0,' <<<"$json" || ! grep -q '"verify_fail":0,' <<<"$json"; then
		echo "compare.sh: segload $* reported errors: $json" >&2
		exit 1
	fi
	sed -n "s/.*\"$field\":\([0-9.e+-]*\).*/\1/p" <<<"$json"
}

# hwm: the peak resident memory of the server started last, in MiB.
hwm() { awk '/^VmHWM:/ { printf "%.1f", $2 / 1024 }' "/proc/$PID/status"; }

# warm SIZE_MIB: writes and removes as many bytes as an ingest run writes, so that the run
# writes into page-cache pages the kernel handed out before (on a virtual machine the first
# touch of a guest page costs more than the write itself).
warm() {
	dd if=/dev/zero of="$WORK/warm" bs=1M count="$1" status=none
	rm -f "$WORK/warm"
}

# pipeline COUNT AWK_PROGRAM: sends the requests the awk program prints (the last one with
# Connection: close) on one connection to the server started last, reading the answers at
# the same time, and checks that COUNT answers were 201.
pipeline() {
	local want=$1 prog=$2 got
	got=$(timeout 300 bash -c '
		exec 3<>"/dev/tcp/127.0.0.1/$0"
		awk "$1" >&3 &
		grep -ao "HTTP/1.1 201 " <&3 | wc -l
	' "$PORT" "$prog") || true
	if [[ $got != "$want" ]]; then
		echo "compare.sh: $got answers of $want were 201" >&2
		exit 1
	fi
}

# segreq: the awk function printing one segment request.
segreq='function seg(sid, s, e, t, body, last) {
	printf "POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\n"
	printf "Content-Disposition: attachment; filename=\"%s.bin\"\r\nX-Content-Range: bytes %d-%d/%d\r\n", sid, s, e, t
	printf "Session-ID: %s\r\nContent-Length: %d\r\n%s\r\n%s", sid, length(body), last ? "Connection: close\r\n" : "", body
}'

# run WORKLOAD TARGET VALUE: records a figure, keeping the best of the rounds; peak (VALUE
# of memory) keeps the largest too.
declare -A fig
run() {
	local best=${fig[$1,$2]:-}
	if [[ -z $best ]] || awk -v a="$3" -v b="$best" 'BEGIN { exit !(a > b) }'; then
		fig[$1,$2]=$3
	fi
	printf '  round %d  %-14s %-8s %.1f\n' "$round" "$1" "$2" "$3" >&2
}

echo "workloads (figures as they come; the table keeps the best of $ROUNDS rounds):" >&2
for round in $(seq "$ROUNDS"); do
for t in sink writeat memory dir $base; do
	serve "$t"
	warm "$SIZE_MIB"
	v=$(load mib_s --size "$SIZE" --segment 1MiB) || exit 1
	run ingest-1MiB "$t" "$v"
	[[ $t == dir || $t == memory ]] && run hwm-upload "$t" "$(hwm)"
	stop
	drop
	serve "$t"
	v=$(load mib_s --size "$SIZE_SMALL" --segment 64KiB) || exit 1
	run ingest-64KiB "$t" "$v"
	stop
	drop
done
for t in sink writeat memory dir $base; do
	serve "$t"
	v=$(load req_s --probe "$PROBES" --requests "$PROBES" --size 1MiB --segment 1MiB) || exit 1
	run probe-2B "$t" "$v"
	stop
	serve "$t"
	# No --verify: it costs the client CPU on the same cores, and the sink's fixed answer is
	# no range list; the answers are the suite's business.
	v=$(load req_s --sessions 16 --size 64KiB --segment 1KiB --files 0 --requests 32000) || exit 1
	run 16x1KiB "$t" "$v"
	stop
done

# A session of N disjoint ranges: 0-1, then one byte every other byte from 4.
for t in memory dir; do
	for n in 10 1000 10000; do
		serve "$t"
		total=$((2 * n + 4))
		pfx="rg$n"
		sid="$pfx-s0-f0"
		pipeline "$n" "$segreq"'
			BEGIN { seg("'"$sid"'", 0, 1, '"$total"', "ab", 0)
				for (k = 0; k < '"$n"' - 1; k++) seg("'"$sid"'", 4 + 2 * k, 4 + 2 * k, '"$total"', "x", k == '"$n"' - 2) }'
		v=$(load req_s --id-prefix "$pfx" --probe "$PROBES" --requests "$PROBES" --size "$total" --segment "$total") || exit 1
		run "ranges-$n" "$t" "$v"
		stop
	done
done

# 20000 idle sessions on a data directory: one byte of two each.
serve dir
pipeline "$IDLE" "$segreq"'
	BEGIN { for (i = 1; i <= '"$IDLE"'; i++) seg("idle" i, 0, 0, 2, "x", i == '"$IDLE"') }'
run hwm-idle dir "$(hwm)"
stop
done

# The table.
num() { awk -v a="$1" 'BEGIN { if (a == "") print "-"; else printf "%.0f", a }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) print "-"; else printf "%.2f", a / b }'; }
printf '\n%-22s %10s %10s %10s %10s %9s %9s %12s\n' workload sink writeat memory dir mem/sink dir/sink dir/writeat
for w in ingest-1MiB ingest-64KiB probe-2B 16x1KiB; do
	unit="MiB/s"
	[[ $w == probe-2B || $w == 16x1KiB ]] && unit="req/s"
	printf '%-22s %10s %10s %10s %10s %9s %9s %12s\n' "$w ($unit)" \
		"$(num "${fig[$w,sink]:-}")" "$(num "${fig[$w,writeat]:-}")" "$(num "${fig[$w,memory]:-}")" "$(num "${fig[$w,dir]:-}")" \
		"$(ratio "${fig[$w,memory]:-}" "${fig[$w,sink]:-}")" "$(ratio "${fig[$w,dir]:-}" "${fig[$w,sink]:-}")" \
		"$(ratio "${fig[$w,dir]:-}" "${fig[$w,writeat]:-}")"
done
if [[ -n $base ]]; then
	printf '\n%-22s %10s %10s %9s %9s   (base: %s)\n' workload base dir base/sink dir/base "$BASE"
	for w in ingest-1MiB ingest-64KiB probe-2B 16x1KiB; do
		printf '%-22s %10s %10s %9s %9s\n' "$w" "$(num "${fig[$w,base]:-}")" "$(num "${fig[$w,dir]:-}")" \
			"$(ratio "${fig[$w,base]:-}" "${fig[$w,sink]:-}")" "$(ratio "${fig[$w,dir]:-}" "${fig[$w,base]:-}")"
	done
fi
printf '\n%-16s %10s %10s %22s %22s\n' "ranges (req/s)" memory dir "time growth mem|dir" "list growth vs 10"
# len N: the length of the answer listing N ranges: `0-1/T` and `K-K/T`.
len() { awk -v n="$1" 'BEGIN { t = 2 * n + 4; s = length("0-1/" t); for (k = 0; k < n - 1; k++) s += 1 + length((4 + 2 * k) "-" (4 + 2 * k) "/" t); print s }'; }
for n in 10 1000 10000; do
	printf '%-16s %10s %10s %22s %22s\n' "ranges-$n" "$(num "${fig[ranges-$n,memory]}")" "$(num "${fig[ranges-$n,dir]}")" \
		"$(ratio "${fig[ranges-10,memory]}" "${fig[ranges-$n,memory]}")|$(ratio "${fig[ranges-10,dir]}" "${fig[ranges-$n,dir]}")" \
		"$(ratio "$(len "$n")" "$(len 10)")"
done
printf '\npeak memory (VmHWM, MiB): dir after a %s upload %s; dir with %d idle sessions %s; memory after the %s upload %s\n' \
	"$SIZE" "${fig[hwm-upload,dir]}" "$IDLE" "${fig[hwm-idle,dir]}" "$SIZE" "${fig[hwm-upload,memory]}"

# The targets.
verdict() { awk -v v="$1" -v op="$2" -v lim="$3" 'BEGIN { ok = (op == ">=") ? v >= lim : v < lim; print (ok ? "met" : "MISSED") }'; }
echo
echo "targets:"
for w in probe-2B 16x1KiB; do
	for t in memory dir; do
		r=$(ratio "${fig[$w,$t]}" "${fig[$w,sink]}")
		echo "  $w $t/sink $r >= 0.8: $(verdict "$r" ">=" 0.8)"
	done
done
r=$(ratio "${fig[ingest-1MiB,dir]}" "${fig[ingest-1MiB,writeat]}")
echo "  ingest-1MiB dir/writeat $r >= 0.8: $(verdict "$r" ">=" 0.8)"
# Not a target, the measure of the one above: what a directory costs small segments at all.
echo "  (16x1KiB writeat/sink $(ratio "${fig[16x1KiB,writeat]}" "${fig[16x1KiB,sink]}"), dir/writeat $(ratio "${fig[16x1KiB,dir]}" "${fig[16x1KiB,writeat]}"): the physical baseline of a directory against the sink, and the store against it)"
echo "  peak memory, $SIZE upload on dir: ${fig[hwm-upload,dir]} MiB < 64: $(verdict "${fig[hwm-upload,dir]}" "<" 64)"
echo "  peak memory, $IDLE idle sessions on dir: ${fig[hwm-idle,dir]} MiB < 64: $(verdict "${fig[hwm-idle,dir]}" "<" 64)"
for t in memory dir; do
	g=$(ratio "${fig[ranges-10,$t]}" "${fig[ranges-10000,$t]}")
	l=$(ratio "$(len 10000)" "$(len 10)")
	echo "  ranges $t: time per request x$g for a list x$l longer: $(verdict "$g" "<" "$l")"
done
