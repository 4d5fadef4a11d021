# Shared helpers for the benchmarks. Sourced, not run.

bench_machine() {
  echo "machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB RAM, $(uname -sr)"
}

# free_port: prints a TCP port nobody listens on (127.0.0.1).
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# wait_port PORT: waits until something answers on 127.0.0.1:PORT (max 30 s).
wait_port() {
  for _ in $(seq 300); do
    curl -s -o /dev/null "http://127.0.0.1:$1/" && return 0
    sleep 0.1
  done
  echo "nothing listens on port $1" >&2
  return 1
}

# start_nginx DIR PORT: serves DIR/www on 127.0.0.1:PORT with a minimal config; pid in DIR/nginx.pid.
start_nginx() {
  local dir=$1 port=$2
  cat >"$dir/nginx.conf" <<NGX
worker_processes auto;
pid $dir/nginx.pid;
error_log $dir/nginx-error.log;
events { worker_connections 4096; }
http {
  access_log off;
  default_type application/json;
  client_body_temp_path $dir/tmp;
  keepalive_requests 1000000;
  server { listen 127.0.0.1:$port; root $dir/www; }
}
NGX
  mkdir -p "$dir/tmp"
  nginx -c "$dir/nginx.conf"
}

stop_nginx() {
  [ -f "$1/nginx.pid" ] && kill "$(cat "$1/nginx.pid")" 2>/dev/null || true
}

# wrk_field FILE KEY: extracts a figure from wrk output.
wrk_rps() { awk '/Requests\/sec/{print $2}' "$1"; }
wrk_p() { awk -v k="$2" '$1==k{print $2}' "$1"; }
wrk_errors() { awk '/Non-2xx/{print $5} /Socket errors/{print}' "$1"; }
