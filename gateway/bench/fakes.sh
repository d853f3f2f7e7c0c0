# Sourced by run.sh and cpu.sh: starts bench.FakeBackends (worker, auth, baseline endpoint, billing)
# and the gateway jar against them, and waits until a chat call through the gateway answers 200.
# Call from the gateway module with JAVA, OUT and GW_PORT set; BENCH_BILLING=1 makes the gateway
# reserve with the fake billing-service on every call, as deployed; BENCH_GATEWAY_JVM_OPTS and
# BENCH_GATEWAY_ARGS pass extra gateway JVM flags / arguments.
#   start_fakes_and_gateway EXTRA_JVM_FLAGS START_TRIES
# Sets PIDS (killed on exit), WORKER AUTH BASE BILLING (the fakes' addresses), GW_PID and BODY.
start_fakes_and_gateway() {
  local extra_jvm="$1" tries="$2" code=""
  PIDS=()
  trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT
  "$JAVA" -Xmx256m --enable-native-access=ALL-UNNAMED -Dlogging.level.root=WARN \
    -cp "target/test-classes:target/classes:$(cat target/bench-cp.txt)" \
    org.glmmaas.gateway.bench.FakeBackends > "$OUT/backends.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 300); do grep -q '^BACKENDS' "$OUT/backends.log" && break; sleep 0.2; done
  read -r WORKER AUTH BASE BILLING < <(sed -n 's/^BACKENDS worker=\(\S*\) auth=\(\S*\) baseline=\(\S*\) billing=\(\S*\)/\1 \2 \3 \4/p' "$OUT/backends.log")
  local billing_arg=""
  [ "${BENCH_BILLING:-0}" = 1 ] && billing_arg="--glm.gateway.billing.address=$BILLING"
  "$JAVA" -Xms512m -Xmx512m --enable-native-access=ALL-UNNAMED $extra_jvm ${BENCH_GATEWAY_JVM_OPTS:-} -jar target/gateway-*.jar \
    --server.port="$GW_PORT" --glm.gateway.workers="$WORKER" --glm.gateway.auth.address="$AUTH" \
    --glm.gateway.data-dir="$OUT/data" --logging.level.root=WARN $billing_arg ${BENCH_GATEWAY_ARGS:-} > "$OUT/gateway.log" 2>&1 &
  PIDS+=($!); GW_PID=$!
  BODY='{"model":"glm-4-flash","messages":[{"role":"user","content":"hi"}]}'
  for _ in $(seq "$tries"); do  # 0.3 s apart
    code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer kmain.s3cretmain' \
      -H 'Content-Type: application/json' -d "$BODY" "http://127.0.0.1:$GW_PORT/v1/chat/completions" || true)
    [ "$code" = 200 ] && break; sleep 0.3
  done
  [ "$code" = 200 ] || { echo "gateway did not come up; see $OUT/gateway.log" >&2; exit 1; }
}
