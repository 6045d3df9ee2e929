#!/usr/bin/env bash
# A fresh RabbitMQ virtual host for one test run: no messages left over from earlier runs, and
# nothing shared with a `make run` on the default vhost. Prints the AMQP URL to use.
# Without rabbitmqctl (a remote broker), the tests use AMQP_URL as given.
set -euo pipefail
vhost=${TEST_VHOST:-livechat-test}
if [ -n "${AMQP_URL:-}" ] || ! command -v rabbitmqctl >/dev/null 2>&1; then
  echo "${AMQP_URL:-amqp://guest:guest@127.0.0.1:5672/}"
  exit 0
fi
rabbitmqctl -q delete_vhost "$vhost" >/dev/null 2>&1 || true
rabbitmqctl -q add_vhost "$vhost" >/dev/null
rabbitmqctl -q set_permissions -p "$vhost" guest ".*" ".*" ".*" >/dev/null
echo "amqp://guest:guest@127.0.0.1:5672/$vhost"
