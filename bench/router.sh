#!/usr/bin/env bash
# The node's router in SNI passthrough (ck_router, as cloakd's router process runs it) beside
# HAProxy 2.6 (Debian) in TCP mode routing on req.ssl_sni, to the same backend (nginx 1.22
# terminating TLS 1.3, P-256, one worker), same load, alternating in rounds; medians.
#   new TLS connections/s: wrk with "Connection: close" (a handshake per request)
#   bulk: wrk fetching a 1 MiB body over kept-alive connections (bytes/s)
# p99 latency and the front's resident memory (peak) beside each. Free ports are picked.
# Usage: bench/router.sh [SECONDS_PER_ROUND] [ROUNDS] [CONNECTIONS]
. "$(dirname "$0")/lib.sh" "$@"
BACK=$(free_port) HAP=$(free_port) RTR=$(free_port)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
	-keyout "$d/key.pem" -out "$d/cert.pem" 2>/dev/null
head -c $((1 << 20)) /dev/zero >"$d/big.bin"
chmod 755 "$d" && chmod 644 "$d/big.bin" # nginx's worker runs as nobody when started as root
cat >"$d/nginx.conf" <<NGX
worker_processes 1; daemon off; error_log $d/err.log; pid $d/nginx.pid;
events { worker_connections 4096; }
http { access_log off; client_body_temp_path $d/t1; proxy_temp_path $d/t2;
  fastcgi_temp_path $d/t3; uwsgi_temp_path $d/t4; scgi_temp_path $d/t5; keepalive_requests 1000000;
  server { listen 127.0.0.1:$BACK ssl; ssl_certificate $d/cert.pem; ssl_certificate_key $d/key.pem;
    ssl_protocols TLSv1.3; location / { return 200 "hello\n"; } location = /big { alias $d/big.bin; } } }
NGX
cat >"$d/haproxy.cfg" <<HAP
global
  nbthread 1
  maxconn 8192
defaults
  mode tcp
  timeout connect 5s
  timeout client 60s
  timeout server 60s
frontend sni
  bind 127.0.0.1:$HAP
  tcp-request inspect-delay 5s
  tcp-request content accept if { req.ssl_hello_type 1 }
  use_backend app if { req.ssl_sni -i localhost }
backend app
  server s1 127.0.0.1:$BACK
HAP
nginx -p "$d" -c "$d/nginx.conf" & pids+=($!)
haproxy -f "$d/haproxy.cfg" -db & hpid=$!; pids+=($hpid)
build/release/bench/bench_router "$RTR" localhost "$BACK" >"$d/rtr.out" & rpid=$!; pids+=($rpid)
wait_line "$d/rtr.out"
for port in $BACK $HAP $RTR; do wait_port "$port" || true; done
for p in $HAP $RTR; do
	curl -sk "https://localhost:$p/" | grep -q hello || { echo "router.sh: no answer on $p" >&2; exit 1; }
	[ "$(curl -sk "https://localhost:$p/big" | wc -c)" = $((1 << 20)) ] || { echo "router.sh: /big is not 1 MiB on $p" >&2; exit 1; }
done
for r in $(seq "$rounds"); do
	for t in haproxy:$HAP cloak:$RTR; do
		wrk -t1 -c"$conns" -d"${secs}s" --latency -H "Connection: close" "https://localhost:${t#*:}/" >"$d/${t%%:*}.new.$r"
		wrk -t1 -c"$conns" -d"${secs}s" --latency "https://localhost:${t#*:}/big" >"$d/${t%%:*}.bulk.$r"
	done
done
rss() { awk '$1 == "VmHWM:" {print $2}' /proc/"$1"/status; }
python3 - "$d" "$rounds" "$conns" "$secs" "$(rss $hpid)" "$(rss $rpid)" <<'PY'
import re, statistics, sys
d, rounds, conns, secs, hrss, rrss = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
def ms(v, u): return float(v) * {"us": 1e-3, "ms": 1, "s": 1e3}[u]
def parse(path):
    t = open(path).read()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
    tr = re.search(r"Transfer/sec:\s+([\d.]+)(\w+)", t)
    bps = float(tr.group(1)) * {"B": 1, "KB": 1024, "MB": 1 << 20, "GB": 1 << 30}[tr.group(2)]
    p99 = ms(*re.search(r"\s99%\s+([\d.]+)(us|ms|s)", t).groups())
    return rps, bps, p99
med = {}
for k in ("haproxy", "cloak"):
    new = [parse(f"{d}/{k}.new.{r}") for r in range(1, rounds + 1)]
    bulk = [parse(f"{d}/{k}.bulk.{r}") for r in range(1, rounds + 1)]
    med[k] = (statistics.median(x[0] for x in new), statistics.median(x[2] for x in new),
              statistics.median(x[1] for x in bulk), statistics.median(x[2] for x in bulk))
print(f"wrk -t1 -c{conns}, {rounds} alternating rounds of {secs} s, TLS 1.3 P-256 passthrough to nginx; medians\n")
print("| front | new TLS connections/s | p99 (new) | bulk MiB/s (1 MiB bodies) | p99 (bulk) | RSS peak |")
print("|---|---:|---:|---:|---:|---:|")
for k, name, rss in (("haproxy", "HAProxy 2.6 (req.ssl_sni)", hrss), ("cloak", "cloak router (ck_router)", rrss)):
    m = med[k]
    print(f"| {name} | {m[0]:.0f} | {m[1]:.2f} ms | {m[2] / (1 << 20):.0f} | {m[3]:.2f} ms | {rss / 1024:.1f} MiB |")
h, c = med["haproxy"], med["cloak"]
print(f"\nratios cloak/HAProxy: connections/s {c[0] / h[0]:.2f}x, bulk {c[2] / h[2]:.2f}x (goal >= 1 each), "
      f"p99 new {c[1] / h[1]:.2f}x, p99 bulk {c[3] / h[3]:.2f}x (goal <= 1)")
PY
