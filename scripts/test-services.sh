#!/usr/bin/env bash
# Make sure the tests find Redis and PostgreSQL where tests/services.py looks for them
# (127.0.0.1:6379 and 127.0.0.1:5432, trust auth, database `test`). Where nothing
# answers, install the Debian package and start a private server under var/.
set -euo pipefail
cd "$(dirname "$0")/.."

answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
need_root() { [ "$(id -u)" = 0 ] || { echo "test-services: $1 needs root to install"; exit 1; }; }

if ! answers 6379; then
  command -v redis-server >/dev/null || { need_root redis-server; apt-get install -y -qq redis-server; }
  mkdir -p var/redis
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --dir "$PWD/var/redis" --logfile "$PWD/var/redis/redis.log"
  for _ in $(seq 50); do answers 6379 && break; sleep 0.1; done
  echo "test-services: started Redis on 127.0.0.1:6379"
fi

if ! answers 5432; then
  if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    need_root postgresql; apt-get install -y -qq postgresql
  fi
  bin=$(dirname "$(ls /usr/lib/postgresql/*/bin/initdb | sort -V | tail -1)")
  data=/tmp/callcenter-pg
  if [ ! -d "$data" ]; then
    install -d -o postgres "$data"
    runuser -u postgres -- "$bin/initdb" -D "$data" --auth=trust -U postgres >/dev/null
  fi
  runuser -u postgres -- "$bin/pg_ctl" -D "$data" -l "$data/log" -w \
    -o "-p 5432 -c listen_addresses=127.0.0.1 -k /tmp" start
  echo "test-services: started PostgreSQL on 127.0.0.1:5432"
fi
psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='test'" postgres | grep -q 1 \
  || psql -h 127.0.0.1 -U postgres -c "CREATE DATABASE test" postgres >/dev/null
