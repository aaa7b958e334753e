#!/usr/bin/env bash
# The app as several processes behind Debian's nginx, sticky per browser session.
#   bash scripts/serve.sh --workers 2 [--port 7860]
# Each worker is `python app.py` on its own loopback port (7861, 7862, ...). nginx listens on --port and gives each
# browser one worker for good: the first answer sets a cookie `route`, and `hash $route consistent` sends every later
# request with it (uploads, queue events, their stream, training) to the same worker, which holds that session's
# files and state. Nothing home-made: the same layout scales to several machines by listing their addresses in the
# upstream block, or on Hugging Face by running replicas behind the Space's own balancer.
# Stops everything on Ctrl-C / SIGTERM. Needs nginx (apt-get install nginx-light).
set -euo pipefail
cd "$(dirname "$0")/.."
workers=2
port=7860
while [ $# -gt 0 ]; do
  case "$1" in
    --workers) workers=$2; shift 2 ;;
    --port) port=$2; shift 2 ;;
    *) echo "usage: bash scripts/serve.sh --workers N [--port P]" >&2; exit 2 ;;
  esac
done
PY=${PYTHON:-.venv/bin/python}
[ -x "$PY" ] || PY=python3
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$NGINX" ] || { echo "nginx is not installed (apt-get install nginx-light)" >&2; exit 1; }

run=$(mktemp -d /tmp/resnet-serve.XXXXXX)
pids=()
stop() {
  [ -f "$run/nginx.pid" ] && kill "$(cat "$run/nginx.pid")" 2>/dev/null || true
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$run"
}
trap stop EXIT INT TERM

servers=""
for i in $(seq 1 "$workers"); do
  p=$((port + i))
  # Each worker its own runs folder: it bounds only the runs of the tabs it serves.
  RESNET_RUNS_DIR=${RESNET_RUNS_DIR:-runs/app}/worker$i GRADIO_SERVER_NAME=127.0.0.1 GRADIO_SERVER_PORT=$p \
    "$PY" app.py > "$run/worker$i.log" 2>&1 &
  pids+=($!)
  servers="$servers    server 127.0.0.1:$p;
"
done

cat > "$run/nginx.conf" <<EOF
worker_processes 1;
pid $run/nginx.pid;
error_log $run/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $run/body;
  proxy_temp_path $run/proxy;
  fastcgi_temp_path $run/fastcgi;
  uwsgi_temp_path $run/uwsgi;
  scgi_temp_path $run/scgi;
  client_max_body_size 20m;
  map \$cookie_route \$route { "" \$request_id; default \$cookie_route; }
  map \$cookie_route \$new_route { "" "route=\$request_id; Path=/; HttpOnly; SameSite=Lax"; default ""; }
  upstream app {
    hash \$route consistent;
$servers  }
  server {
    listen $port;
    location / {
      proxy_pass http://app;
      proxy_http_version 1.1;
      # The host with its port, as the browser wrote it: Gradio builds the URLs of its pictures from it (with
      # \$host, which drops the port, every picture of a page served on a port other than 80 failed to load).
      proxy_set_header Host \$http_host;
      proxy_set_header X-Forwarded-Host \$http_host;
      proxy_set_header X-Forwarded-Proto \$scheme;
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_set_header Upgrade \$http_upgrade;
      proxy_set_header Connection "";
      proxy_buffering off;
      proxy_read_timeout 3600s;
      add_header Set-Cookie \$new_route;
    }
  }
}
EOF

for i in $(seq 1 "$workers"); do  # wait for every worker to answer
  for _ in $(seq 1 240); do
    curl -sf "http://127.0.0.1:$((port + i))/config" > /dev/null && break
    sleep 0.5
  done
done
"$NGINX" -c "$run/nginx.conf" -g "daemon on;"
echo "serving on http://127.0.0.1:$port with $workers workers (logs in $run)"
wait "${pids[@]}"
