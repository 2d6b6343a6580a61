#!/usr/bin/env bash
# cloak-runtime as TLS terminator and reverse proxy, beside nginx configured the same way: TLS
# 1.3 with a P-256 certificate (the runtime's own RA-TLS one; a self-signed one for nginx), one
# worker (the runtime is one event loop), keep-alive to the client and to the app, in front of
# the same trivial app (an nginx that answers "hello" to every request). The runtime runs that
# app from an encrypted package, provisioned with `cloak provision`, as in production (sim
# backend). wrk drives both on loopback, alternating in rounds; medians are reported. Resident
# memory of the runtime process (not its app): idle once serving, and its peak under load.
# Usage: bench/proxy.sh [SECONDS_PER_ROUND] [ROUNDS] [CONNECTIONS]
. "$(dirname "$0")/lib.sh" "$@"
APP=$(free_port) NGX=$(free_port)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=bench \
	-keyout "$d/key.pem" -out "$d/cert.pem" 2>/dev/null
common="worker_processes 1; daemon off; error_log $d/err.log; pid PIDFILE;
events { worker_connections 4096; }"
temps="client_body_temp_path $d/t1; proxy_temp_path $d/t2; fastcgi_temp_path $d/t3;
uwsgi_temp_path $d/t4; scgi_temp_path $d/t5; access_log off;"
app_http='keepalive_requests 1000000; server { listen 127.0.0.1:APPPORT; location / { return 200 "hello\n"; } }'
cat > "$d/app.conf" <<NGX
${common//PIDFILE/$d/app.pid}
http { $temps ${app_http//APPPORT/$APP} }
NGX
cat > "$d/front.conf" <<NGX
${common//PIDFILE/$d/front.pid}
http { $temps keepalive_requests 1000000;
  upstream app { server 127.0.0.1:$APP; keepalive 64; keepalive_requests 1000000; }
  server { listen 127.0.0.1:$NGX ssl; ssl_certificate $d/cert.pem;
    ssl_certificate_key $d/key.pem; ssl_protocols TLSv1.3;
    location / { proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection ""; } } }
NGX
# The same app, packaged: it writes its nginx configuration for $PORT into its data directory,
# and serves on the socket the runtime holds for it (descriptor 3: nginx inherits listening
# sockets named in $NGINX).
mkdir -p "$d/app"
{
	echo '#!/bin/sh'
	echo 'd=$CLOAK_DATA_DIR'
	# as root in the runtime's user namespace only uid 0 is mapped: no chown to nobody
	echo 'u=; [ "$(id -u)" = 0 ] && u="user root root;"'
	echo 'cat > "$d/app.conf" <<CONF'
	echo '$u worker_processes 1; daemon off; error_log $d/err.log; pid $d/app.pid;'
	echo 'events { worker_connections 4096; }'
	echo 'http { client_body_temp_path $d/1; proxy_temp_path $d/2; fastcgi_temp_path $d/3;'
	echo "  uwsgi_temp_path \$d/4; scgi_temp_path \$d/5; access_log off; ${app_http//APPPORT/\$PORT} }"
	echo 'CONF'
	echo 'export NGINX="3;"'
	echo 'exec /usr/sbin/nginx -e "$d/err.log" -p "$d" -c "$d/app.conf"'
} > "$d/app/run.sh"
chmod 755 "$d/app/run.sh"
export CLOAK_CONFIG_DIR="$d/owner"
$B/cli/cloak sim init "$d/pki" >/dev/null
$B/cli/cloak package "$d/app" -o "$d/app.pkg" --manifest-out "$d/app.manifest" --name bench \
	--run ./run.sh --health /healthz >/dev/null 2>&1
nginx -p "$d" -c "$d/app.conf" 2>/dev/null & pids+=($!)
nginx -p "$d" -c "$d/front.conf" 2>/dev/null & pids+=($!)
$B/runtime/cloak-runtime --backend sim --sim-pki "$d/pki" --package "$d/app.pkg" \
	--manifest "$d/app.manifest" --listen 127.0.0.1:0 >"$d/rt.out" 2>"$d/rt.log" & cpid=$!
pids+=($cpid)
wait_line "$d/rt.out"
CLK=$(listen_port "$d/rt.out")
$B/cli/cloak provision "127.0.0.1:$CLK" --manifest "$d/app.manifest" \
	--package-key "$d/app.pkg.key" --allow-simulation >/dev/null 2>"$d/prov.err" ||
	{ echo "proxy.sh: provisioning failed: $(cat "$d/prov.err" "$d/rt.log")" >&2; exit 1; }
status() { curl -sk "https://127.0.0.1:$CLK/.well-known/cloak/status"; }
for _ in $(seq 100); do status | grep -q '"state":"serving"' && break; sleep 0.1; done
for port in $APP $NGX; do
	wait_port "$port" || true
done
curl -sk "https://127.0.0.1:$CLK/" | grep -q hello ||
	{ echo "proxy.sh: cloak-runtime does not answer: $(cat "$d/rt.log")" >&2; exit 1; }
curl -sk "https://127.0.0.1:$NGX/" | grep -q hello || { echo "proxy.sh: nginx does not answer" >&2; exit 1; }
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
if [ -n "${PERF:-}" ]; then # system calls per request of each front, one more 5 s wrk run each
	ev=syscalls:sys_enter_epoll_ctl,syscalls:sys_enter_epoll_wait,syscalls:sys_enter_read,syscalls:sys_enter_readv,syscalls:sys_enter_write,syscalls:sys_enter_writev,syscalls:sys_enter_ioctl,syscalls:sys_enter_recvfrom,syscalls:sys_enter_sendto
	for t in nginx:$NGX:$ngx_worker cloak:$CLK:$cpid; do
		IFS=: read -r name port pid <<<"$t"
		perf stat -x, -e "$ev" -p "$pid" -o "$d/perf.$name" -- sleep 6 & pp=$!
		sleep 0.5
		n=$(wrk -t1 -c"$conns" -d5s "https://127.0.0.1:$port/" | awk '/requests in/ {print $1}')
		wait $pp
		echo "$name: $n requests; per request:" \
			"$(awk -F, -v n="$n" '{sub("syscalls:sys_enter_", "", $3); printf "%s %.2f  ", $3, $1 / n}' "$d/perf.$name")"
	done
fi
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
print(f"| cloak-runtime | {med['cloak'][0]:.0f} | {med['cloak'][1]:.2f} ms | {med['cloak'][2]:.2f} ms | "
      f"{med['cloak'][3]:.0f} | {idle/1024:.1f} MiB | {peak/1024:.1f} MiB |")
print(f"\nratios cloak/nginx: throughput {med['cloak'][0]/med['nginx'][0]:.2f}x (goal >= 1), "
      f"p99 {med['cloak'][2]/med['nginx'][2]:.2f}x (goal <= 1); idle RSS goal < 8 MiB")
PY
