#!/usr/bin/env bash
# Makes sure the local PostgreSQL and Redis answer, starting the machine's own servers when they are installed
# but down. Skipped when DATABASE_URL / REDIS_URL point at another host (e.g. docker compose).
set -uo pipefail

db_url=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/facesets}
redis_url=${REDIS_URL:-redis://127.0.0.1:6379}

is_local() { [[ "$1" == *"@127.0.0.1"* || "$1" == *"@localhost"* || "$1" == *"//127.0.0.1"* || "$1" == *"//localhost"* ]]; }

wait_for() { # name command...
  local name=$1; shift
  for _ in $(seq 1 30); do "$@" >/dev/null 2>&1 && return 0; sleep 1; done
  echo "ensure-services: $name did not come up" >&2
  return 1
}

if is_local "$db_url"; then
  if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
    if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
      echo "ensure-services: starting PostgreSQL"
      pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
      wait_for PostgreSQL pg_isready -h 127.0.0.1 -p 5432 -q || exit 1
    else
      echo "ensure-services: PostgreSQL does not answer on 127.0.0.1:5432 and no local server is installed;" \
           "start one (e.g. 'docker compose up -d postgres redis') or set DATABASE_URL" >&2
      exit 1
    fi
  fi
fi

if is_local "$redis_url"; then
  if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    if command -v redis-server >/dev/null 2>&1; then
      echo "ensure-services: starting Redis"
      mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
      redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
        --dir /var/lib/redis --logfile /var/log/redis/facesets.log
      wait_for Redis redis-cli -h 127.0.0.1 -p 6379 ping || exit 1
    else
      echo "ensure-services: Redis does not answer on 127.0.0.1:6379 and no local server is installed;" \
           "start one (e.g. 'docker compose up -d redis') or set REDIS_URL" >&2
      exit 1
    fi
  fi
fi
