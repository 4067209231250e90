#!/usr/bin/env bash
# A scale-out platform on this machine for `ordo bench checkout --target`: every service in
# processes of its own (orders, delivery and notifications twice) and two gateways, on
# PostgreSQL, NATS and Redis, each run with a schema prefix, stream and keys of its own.
# Prints the gateways' addresses and every process id (for --server-pid), then waits;
# Ctrl-C stops them all.
#
#   bench/cluster.sh                     # ORDO=target/release/ordo by default
#   ordo bench checkout --target http://127.0.0.1:9201 --server-pid <the ids printed>
set -euo pipefail
ordo=${ORDO:-target/release/ordo}
dir=$(mktemp -d /tmp/ordo-cluster-XXXXXX)
run=c$(date +%s)
export ORDO_DATABASE_URL=${ORDO_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
export ORDO_BUS_URL=${ORDO_BUS_URL:-nats://127.0.0.1:4222}
export ORDO_REDIS_URL=${ORDO_REDIS_URL:-redis://127.0.0.1:6379}
export ORDO_DATABASE_SCHEMA_PREFIX=$run ORDO_BUS__STREAM=BENCH_$run ORDO_BUS__SUBJECT_PREFIX=$run
export ORDO_REDIS__PREFIX=$run: ORDO_IDENTITY__KEYS_FILE=$dir/keys.json
export ORDO_HTTP__TRUSTED_PROXIES=127.0.0.1 ORDO_LOG_LEVEL=warn
# One address plays every client.
export ORDO_RATE_LIMIT__ENABLED=false
# Sixteen processes share this machine's cores: one runtime worker each (tokio's own
# setting), as a pod limited to one core gets, rather than one per core in every process.
export TOKIO_WORKER_THREADS=${TOKIO_WORKER_THREADS:-1}
"$ordo" --data-dir "$dir" migrate >/dev/null

pids=()
stop() { kill "${pids[@]}" 2>/dev/null || true; }
trap stop EXIT INT TERM
port=${FIRST_PORT:-9300}
for service in identity catalog inventory cart payments delivery notifications orders reviews analytics search; do
  case $service in orders | delivery | notifications) count=2 ;; *) count=1 ;; esac
  urls=()
  for i in $(seq 1 "$count"); do
    port=$((port + 1))
    mkdir -p "$dir/$service-$i"
    ORDO_RUN=$service "$ordo" --data-dir "$dir/$service-$i" serve --listen "127.0.0.1:$port" \
      >"$dir/$service-$i.log" 2>&1 &
    pids+=($!)
    urls+=("http://127.0.0.1:$port")
  done
  # Those after it call it here.
  export "ORDO_SERVICES__${service^^}__URLS=$(IFS=,; echo "${urls[*]}")"
done
gateways=()
for i in 1 2; do
  port=$((port + 1))
  mkdir -p "$dir/gateway-$i"
  "$ordo" --data-dir "$dir/gateway-$i" gateway --listen "127.0.0.1:$port" >"$dir/gateway-$i.log" 2>&1 &
  pids+=($!)
  gateways+=("http://127.0.0.1:$port")
done
for gateway in "${gateways[@]}"; do
  until curl -fs "$gateway/readyz" >/dev/null; do sleep 0.5; done
done
echo "gateways: ${gateways[*]}"
echo "pids: $(IFS=,; echo "${pids[*]}")"
echo "logs: $dir"
wait
