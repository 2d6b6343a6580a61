#!/usr/bin/env bash
# Fresh (nonce-bound) evidence answered per second to many clients: cloak-runtime as built
# from this tree (nonces batched under one quote per 100 ms, docs/ratls.md) beside the runtime
# of the commit before batching (one quote per nonce, a burst of 32 then 4 a second, 429
# beyond), built from git into a scratch directory. Both run the sim backend in phase
# provisioning, so every answer is a real quote and a real bundle with collateral. wrk drives
# each with a fresh random nonce per request over TLS keep-alive, alternating in rounds; medians.
# Usage: bench/evidence.sh [SECONDS_PER_ROUND] [ROUNDS] [CONNECTIONS]
. "$(dirname "$0")/lib.sh" "$@"
bench_cleanup() { git worktree remove --force "$d/old" 2>/dev/null || true; }
# the baseline: the last commit before batching
base=$(git log --format=%H -1 --grep='^Fresh evidence in batches')
[ -n "$base" ] || { echo "evidence.sh: the batching commit is not in this history" >&2; exit 2; }
git worktree add --detach "$d/old" "$base^" >/dev/null 2>&1
cmake -S "$d/old" -B "$d/old/build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCLOAK_WERROR=OFF \
	-DCLOAK_VECTORS_DIR="$PWD/../shared/attestation-vectors" >/dev/null
cmake --build "$d/old/build" --target cloak-runtime >/dev/null
export CLOAK_CONFIG_DIR="$d/owner"
$B/cli/cloak sim init "$d/pki" >/dev/null
$B/cli/cloak package examples/hello -o "$d/app.pkg" --manifest-out "$d/app.manifest" --name bench \
	--run ./server --health /healthz >/dev/null 2>&1
start() { # NAME BINARY -> the port in $d/NAME.port
	"$2" --backend sim --sim-pki "$d/pki" --package "$d/app.pkg" --manifest "$d/app.manifest" \
		--listen 127.0.0.1:0 >"$d/$1.out" 2>"$d/$1.log" &
	pids+=($!)
	wait_line "$d/$1.out"
	listen_port "$d/$1.out" >"$d/$1.port"
}
start batched "$B/runtime/cloak-runtime"
start single "$d/old/build/src/runtime/cloak-runtime"
cat >"$d/nonce.lua" <<'LUA'
math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
request = function()
  local t = {}
  for i = 1, 16 do t[i] = string.format("%02x", math.random(0, 255)) end
  return wrk.format("GET", "/.well-known/cloak/evidence?nonce=" .. table.concat(t))
end
LUA
quotes() { curl -sk "https://127.0.0.1:$1/.well-known/cloak/status" |
	python3 -c 'import json, sys; print(json.load(sys.stdin).get("fresh_evidence", {}).get("quotes", -1))'; }
for r in $(seq "$rounds"); do
	for t in single batched; do
		port=$(cat "$d/$t.port")
		q0=$(quotes "$port")
		wrk -t1 -c"$conns" -d"${secs}s" --latency -s "$d/nonce.lua" "https://127.0.0.1:$port/" >"$d/$t.$r"
		echo "$q0 $(quotes "$port")" >"$d/$t.$r.quotes"
	done
done
python3 - "$d" "$rounds" "$conns" "$secs" <<'PY'
import re, statistics, sys
d, rounds, conns, secs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
def ms(v, u): return float(v) * {"us": 1e-3, "ms": 1, "s": 1e3}[u]
def parse(k, r):
    t = open(f"{d}/{k}.{r}").read()
    n = int(re.search(r"(\d+) requests in", t).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
    bad = int(bad.group(1)) if bad else 0
    lat = {p: ms(*re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)", t).groups()) for p in ("50", "99")}
    q0, q1 = (int(x) for x in open(f"{d}/{k}.{r}.quotes").read().split())
    quotes = (q1 - q0) if q0 >= 0 else n - bad  # the old runtime made one quote per answer
    return (n - bad) / secs, bad / secs, lat["50"], lat["99"], quotes / secs
res = {k: [parse(k, r) for r in range(1, rounds + 1)] for k in ("single", "batched")}
med = {k: [statistics.median(x[i] for x in v) for i in range(5)] for k, v in res.items()}
print(f"wrk -t1 -c{conns}, a fresh random nonce per request, {rounds} alternating rounds of {secs} s; medians\n")
print("| runtime | fresh answers/s (200) | refused/s (429) | p50 | p99 | quotes made/s |")
print("|---|---:|---:|---:|---:|---:|")
for k, name in (("single", "one quote per nonce (before)"), ("batched", "batched under a Merkle root")):
    m = med[k]
    print(f"| {name} | {m[0]:.0f} | {m[1]:.0f} | {m[2]:.1f} ms | {m[3]:.1f} ms | {m[4]:.1f} |")
print(f"\nfresh answers/s, batched / before: {med['batched'][0] / max(med['single'][0], 0.01):.0f}x")
PY
