#!/usr/bin/env bash
# The README's hand flow, scripted end to end against a running system (`make run`): an operator
# console that accepts every offer, a visitor who asks for a chat and says hello, then the
# operator's answer, hold, resume, the read views and the end. Needs no uv on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
GATEWAY=${GATEWAY:-http://127.0.0.1:8001}
SITE=${SITE:-acme}
OPERATOR=${OPERATOR:-ann}
CLI=(.venv/bin/python -m examples.livechat_cli --gateway "$GATEWAY")
logs=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT

wait_for() {  # wait_for FILE PATTERN: up to 30 s for a line matching PATTERN in FILE
  for _ in $(seq 300); do grep -q -- "$2" "$1" && return 0; sleep 0.1; done
  echo "no '$2' in $1 within 30 s:" >&2; cat "$1" >&2; return 1
}

OP=$(make -s token SITE="$SITE" OPERATOR="$OPERATOR")
echo "== the operator's console (accepts every offer), log: $logs/operator.log"
"${CLI[@]}" operator --site "$SITE" --operator "$OPERATOR" --token "$OP" --accept \
  --exit-after-chat --no-input >"$logs/operator.log" 2>&1 &
wait_for "$logs/operator.log" '^> online: 202'
echo "== a visitor asks for a chat and says hello, log: $logs/visitor.log"
"${CLI[@]}" visitor --site "$SITE" --name Ada --say "Hello!" --no-input >"$logs/visitor.log" 2>&1 &
visitor=$!
wait_for "$logs/visitor.log" '"type": *"ChatStarted"'
SESSION=$(grep -m1 '"type": *"ChatStarted"' "$logs/visitor.log" |
  python3 -c 'import sys, json; print(json.load(sys.stdin)["session_id"])')
wait_for "$logs/visitor.log" '^> sent: 202'
echo "== session $SESSION: the operator answers, holds, resumes; the read views; the end"
auth=(-H "Authorization: Bearer $OP")
json=(-H 'Content-Type: application/json')
curl -sf -X POST "$GATEWAY/v1/operator/sessions/$SESSION/messages" "${auth[@]}" "${json[@]}" \
  -d '{"client_message_id": "m2", "text": "Hi, how can I help?"}'; echo
curl -sf -X POST "$GATEWAY/v1/operator/sessions/$SESSION/hold" "${auth[@]}"; echo
curl -sf -X POST "$GATEWAY/v1/operator/sessions/$SESSION/resume" "${auth[@]}"; echo
curl -sf "$GATEWAY/v1/operator/sessions" "${auth[@]}"; echo
curl -sf "$GATEWAY/v1/operator/summary/me" "${auth[@]}"; echo
curl -sf "$GATEWAY/v1/operator/queue" "${auth[@]}"; echo
curl -sf -X POST "$GATEWAY/v1/operator/sessions/$SESSION/end" "${auth[@]}"; echo
wait "$visitor"
echo "== the visitor's socket:"; cat "$logs/visitor.log"
echo "== the operator's socket:"; cat "$logs/operator.log"
echo "hand flow done"
