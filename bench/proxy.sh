#!/usr/bin/env bash
# The runtime's proxy as TLS terminator and reverse proxy, beside nginx configured the same way:
# TLS 1.3 with the same self-signed P-256 certificate, one worker (the proxy is one event loop),
# keep-alive to the client and to the app, in front of the same trivial app (a separate nginx
# that answers "hello" to every request). wrk drives both on loopback, alternating in rounds;
# medians are reported. Resident memory of the proxy: idle after start, and its peak under load.
# Usage: bench/proxy.sh [SECONDS_PER_ROUND] [ROUNDS] [CONNECTIONS]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
rounds=${2:-3}
conns=${3:-32}
scripts/install-deps.sh --bench >/dev/null
cmake --preset release >/dev/null
cmake --build --preset release >/dev/null
d=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$d"; }
trap cleanup EXIT
APP=18480 NGX=18443 CLK=18444
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=bench \
	-keyout "$d/key.pem" -out "$d/cert.pem" 2>/dev/null
common="worker_processes 1; daemon off; error_log $d/err.log; pid PIDFILE;
events { worker_connections 4096; }"
temps="client_body_temp_path $d/t1; proxy_temp_path $d/t2; fastcgi_temp_path $d/t3;
uwsgi_temp_path $d/t4; scgi_temp_path $d/t5; access_log off;"
cat > "$d/app.conf" <<NGX
${common//PIDFILE/$d/app.pid}
http { $temps keepalive_requests 1000000;
  server { listen 127.0.0.1:$APP; location / { return 200 "hello\n"; } } }
NGX
cat > "$d/front.conf" <<NGX
${common//PIDFILE/$d/front.pid}
http { $temps keepalive_requests 1000000;
  upstream app { server 127.0.0.1:$APP; keepalive 64; keepalive_requests 1000000; }
  server { listen 127.0.0.1:$NGX ssl; ssl_certificate $d/cert.pem;
    ssl_certificate_key $d/key.pem; ssl_protocols TLSv1.3;
    location / { proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection ""; } } }
NGX
nginx -p "$d" -c "$d/app.conf" 2>/dev/null & pids+=($!)
nginx -p "$d" -c "$d/front.conf" 2>/dev/null & pids+=($!)
build/release/bench/bench_proxy $CLK $APP "$d/cert.pem" "$d/key.pem" & cpid=$!; pids+=($cpid)
for port in $APP $NGX $CLK; do
	for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
done
curl -sk https://127.0.0.1:$CLK/ | grep -q hello || { echo "proxy.sh: the cloak proxy does not answer" >&2; exit 1; }
curl -sk https://127.0.0.1:$NGX/ | grep -q hello || { echo "proxy.sh: nginx does not answer" >&2; exit 1; }
rss() { awk -v k="$2" '$1 == k":" {print $2}' /proc/"$1"/status; }
idle_kb=$(rss $cpid VmRSS)
ngx_worker=$(pgrep -P "$(cat "$d/front.pid")" | head -1)
ngx_idle_kb=$(rss "$ngx_worker" VmRSS)
for r in $(seq "$rounds"); do
	for t in nginx:$NGX cloak:$CLK; do
		wrk -t1 -c"$conns" -d"${secs}s" --latency "https://127.0.0.1:${t#*:}/" > "$d/${t%%:*}.$r"
	done
done
peak_kb=$(rss $cpid VmHWM)
ngx_peak_kb=$(rss "$ngx_worker" VmHWM)
python3 - "$d" "$rounds" "$idle_kb" "$peak_kb" "$ngx_idle_kb" "$ngx_peak_kb" "$conns" "$secs" <<'PY'
import re, statistics, sys
d, rounds = sys.argv[1], int(sys.argv[2])
idle, peak, nidle, npeak, conns, secs = (int(x) for x in sys.argv[3:9])
def ms(v, u): return float(v) * {"us": 1e-3, "ms": 1, "s": 1e3}[u]
def parse(path):
    t = open(path).read()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
    lat = {p: ms(*re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)", t).groups()) for p in ("50", "99")}
    errs = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
    return rps, lat["50"], lat["99"], int(errs.group(1)) if errs else 0
res = {k: [parse(f"{d}/{k}.{r}") for r in range(1, rounds + 1)] for k in ("nginx", "cloak")}
med = {k: [statistics.median(x[i] for x in v) for i in range(4)] for k, v in res.items()}
print(f"wrk -t1 -c{conns}, {rounds} alternating rounds of {secs} s, TLS 1.3 P-256, keep-alive; medians\n")
print("| front | requests/s | p50 | p99 | non-2xx | RSS idle | RSS peak |")
print("|---|---:|---:|---:|---:|---:|---:|")
print(f"| nginx (1 worker) | {med['nginx'][0]:.0f} | {med['nginx'][1]:.2f} ms | {med['nginx'][2]:.2f} ms | "
      f"{med['nginx'][3]:.0f} | {nidle/1024:.1f} MiB | {npeak/1024:.1f} MiB |")
print(f"| cloak proxy | {med['cloak'][0]:.0f} | {med['cloak'][1]:.2f} ms | {med['cloak'][2]:.2f} ms | "
      f"{med['cloak'][3]:.0f} | {idle/1024:.1f} MiB | {peak/1024:.1f} MiB |")
print(f"\nratios cloak/nginx: throughput {med['cloak'][0]/med['nginx'][0]:.2f}x (goal >= 1), "
      f"p99 {med['cloak'][2]/med['nginx'][2]:.2f}x (goal <= 1); idle RSS goal < 8 MiB")
PY
