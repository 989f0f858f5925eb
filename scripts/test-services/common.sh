# Shared by the test-service scripts: repository paths, free ports, waiting for a port.
repo_root() { cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd; }

# A free TCP port on 127.0.0.1 (the kernel picks it; a tiny race with other starters is accepted).
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

# wait_port PORT SECONDS PID: true once 127.0.0.1:PORT accepts, false on timeout or when PID died.
wait_port() {
  local port=$1 deadline=$((SECONDS + $2)) pid=$3
  while (( SECONDS < deadline )); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.2
  done
  return 1
}

# stop_pid PIDFILE GRACE: SIGTERM, then SIGKILL after GRACE seconds.
stop_pid() {
  local file=$1 grace=${2:-10} pid
  [ -f "$file" ] || return 0
  pid=$(cat "$file")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null
    for ((i = 0; i < grace * 5; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$file"
}
