# bench/lib.sh - the start every load benchmark shares (proxy.sh, evidence.sh, router.sh):
# sourced as `. "$(dirname "$0")/lib.sh" "$@"`. Takes [SECONDS_PER_ROUND] [ROUNDS]
# [CONNECTIONS] (secs, rounds, conns; default 10 3 32), installs the bench tools, builds the
# release tree (B: its src/), makes a scratch directory d removed on exit with every process
# in pids (plus what bench_cleanup, if the script defines it, undoes), and gives:
#   free_port           a port free now on loopback (a fixed port fails on a shared machine)
#   wait_line FILE      until FILE holds a "listening" line (5 s at most)
#   listen_port FILE    the port of the "listening on ADDR:PORT" line in FILE
#   wait_port PORT      until something accepts on 127.0.0.1:PORT (5 s at most)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
rounds=${2:-3}
conns=${3:-32}
scripts/install-deps.sh --bench >/dev/null
cmake --preset release >/dev/null
cmake --build --preset release >/dev/null
B=build/release/src
d=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null
	if declare -F bench_cleanup >/dev/null; then bench_cleanup; fi
	rm -rf "$d"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_line() { for _ in $(seq 100); do grep -q listening "$1" 2>/dev/null && return 0; sleep 0.05; done; return 1; }
listen_port() { sed -n 's/^listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$1"; }
wait_port() { for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }
