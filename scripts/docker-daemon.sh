#!/usr/bin/env bash
# Starts/stops a Docker daemon for tests and CI, as the team's notes on Docker for tests describe.
# Network rule: no default bridge, no iptables/masquerading; test containers use host networking.
#   scripts/docker-daemon.sh start|stop|status
# Env: BP_DOCKERD_PIDFILE, BP_DOCKERD_LOG, BP_DOCKERD_TIMEOUT (seconds, default 60),
#      BP_DOCKERD_DATA_ROOT (optional --data-root).
set -euo pipefail

PIDFILE="${BP_DOCKERD_PIDFILE:-/tmp/bp-dockerd.pid}"
LOG="${BP_DOCKERD_LOG:-/tmp/bp-dockerd.log}"
TIMEOUT="${BP_DOCKERD_TIMEOUT:-60}"

answers() { docker version >/dev/null 2>&1; }

our_pid() {
  # Prints the PID from our pidfile if that process is still a dockerd.
  [[ -f "$PIDFILE" ]] || return 1
  local pid
  pid="$(cat "$PIDFILE")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == dockerd ]] || return 1
  echo "$pid"
}

start() {
  if answers; then
    echo "docker-daemon: a daemon already answers; nothing to do."
    return 0
  fi
  if pid="$(our_pid)"; then
    echo "docker-daemon: dockerd (pid $pid) is running but not answering yet; waiting."
  else
    command -v dockerd >/dev/null || { echo "docker-daemon: dockerd not found; apt-get install -y docker.io" >&2; return 1; }
    local args=(--bridge=none --iptables=false --ip-masq=false)
    if [[ -n "${BP_DOCKERD_DATA_ROOT:-}" ]]; then args+=(--data-root "$BP_DOCKERD_DATA_ROOT"); fi
    : >"$LOG"
    # Own session/process group, so the daemon outlives this shell and never gets its signals.
    setsid dockerd "${args[@]}" >>"$LOG" 2>&1 < /dev/null &
    pid=$!
    echo "$pid" >"$PIDFILE"
    echo "docker-daemon: started dockerd (pid $pid), log $LOG"
  fi
  local deadline=$((SECONDS + TIMEOUT))
  until answers; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "docker-daemon: dockerd exited early. Log tail:" >&2
      tail -n 40 "$LOG" >&2 || true
      rm -f "$PIDFILE"
      return 1
    fi
    if (( SECONDS >= deadline )); then
      echo "docker-daemon: dockerd did not answer within ${TIMEOUT}s. Log tail:" >&2
      tail -n 40 "$LOG" >&2 || true
      return 1
    fi
    sleep 0.2
  done
  echo "docker-daemon: ready ($(docker version --format '{{.Server.Version}}' 2>/dev/null || echo '?'))"
}

stop() {
  local pid
  if ! pid="$(our_pid)"; then
    echo "docker-daemon: no dockerd started by this script is running."
    rm -f "$PIDFILE"
    return 0
  fi
  kill -TERM "$pid"
  for _ in $(seq 1 150); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "docker-daemon: dockerd (pid $pid) ignored SIGTERM for 30s; sending SIGKILL." >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$PIDFILE"
  echo "docker-daemon: stopped dockerd (pid $pid)."
}

status() {
  if answers; then
    if pid="$(our_pid)"; then echo "running (pid $pid, started by this script)"; else echo "running (not started by this script)"; fi
  else
    if pid="$(our_pid)"; then echo "starting or unresponsive (pid $pid)"; else echo "not running"; fi
    return 3
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
