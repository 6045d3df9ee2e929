#!/usr/bin/env bash
# Make sure the local RabbitMQ answers on 127.0.0.1:5672; start it if it is installed and down.
set -euo pipefail
host=${RABBITMQ_HOST:-127.0.0.1}
port=${RABBITMQ_PORT:-5672}
up() { (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; }
if up; then exit 0; fi
if ! command -v rabbitmq-server >/dev/null 2>&1; then
  echo "RabbitMQ is not reachable at $host:$port and rabbitmq-server is not installed." >&2
  echo "Install it (Debian: apt-get install rabbitmq-server) or set AMQP_URL to a broker." >&2
  exit 1
fi
echo "starting RabbitMQ ..."
rabbitmq-server -detached
for _ in $(seq 1 60); do
  if up; then
    rabbitmqctl await_startup >/dev/null 2>&1 || true
    echo "RabbitMQ is up at $host:$port"
    exit 0
  fi
  sleep 1
done
echo "RabbitMQ did not come up within 60 s" >&2
exit 1
