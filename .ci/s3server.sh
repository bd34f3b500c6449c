# Sourced by .ci/run: builds SeaweedFS once (cached) and starts `weed
# server -s3` on 127.0.0.1 with a temporary data directory, for the S3
# store tests (snapshots/s3store, cmd/canscope). Exports
# CANSCOPE_S3_TEST_ENDPOINT and the test keys; the caller's EXIT trap
# calls s3server_stop.
#
# SeaweedFS (Apache-2.0) comes from the Go module proxy; `go install` of it
# is refused (its go.mod has replace directives), so the module is
# downloaded and `go build ./weed` runs in its directory. The binary is
# kept at $WEED_BIN (default ${XDG_CACHE_HOME:-$HOME/.cache}/canscope-ci/
# weed-VERSION) and reused by every later run on the machine.

WEED_VERSION=v0.0.0-20261109003541-7506e5f91cd6
WEED_BIN=${WEED_BIN:-${XDG_CACHE_HOME:-$HOME/.cache}/canscope-ci/weed-$WEED_VERSION}

s3server_build() {
  [ -x "$WEED_BIN" ] && return 0
  mkdir -p "$(dirname "$WEED_BIN")"
  (
    flock 9 # one build at a time; a second run waits for the first
    [ -x "$WEED_BIN" ] && exit 0
    echo "building SeaweedFS $WEED_VERSION into $WEED_BIN (once per machine)"
    local start=$SECONDS dir
    dir=$(go mod download -json "github.com/seaweedfs/seaweedfs@$WEED_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
    [ -n "$dir" ] || { echo "go mod download of seaweedfs failed"; exit 1; }
    # -s -w: no symbol tables, a smaller binary and a shorter link.
    # -N -l: no optimisation or inlining. The tests move a few MiB, so the
    # server's speed does not matter, and the build is the long pole of a
    # fresh machine's CI: measured 822 CPU-s optimised, 584 CPU-s without.
    (cd "$dir" && GOFLAGS=-mod=mod nice -n 10 go build -trimpath -gcflags='all=-N -l' -ldflags='-s -w' -o "$WEED_BIN.tmp" ./weed) || exit 1
    mv "$WEED_BIN.tmp" "$WEED_BIN"
    echo "built SeaweedFS in $((SECONDS - start)) s"
  ) 9>"$WEED_BIN.lock"
}

# s3server_port picks a free TCP port on 127.0.0.1 with its +10000 twin
# (SeaweedFS's gRPC port) also free.
s3server_port() {
  local p
  for _ in $(seq 50); do
    p=$((20000 + RANDOM % 30000))
    if ! ss -ltn | awk '{print $4}' | grep -qE ":($p|$((p + 10000)))\$"; then
      echo "$p"; return 0
    fi
  done
  return 1
}

s3server_start() {
  s3server_build || return 1
  S3SERVER_DIR=$(mktemp -d "${TMPDIR:-/tmp}/canscope-weed.XXXXXX")
  mkdir -p "$S3SERVER_DIR/data"
  local master volume filer s3
  master=$(s3server_port) && volume=$(s3server_port) && filer=$(s3server_port) && s3=$(s3server_port) || return 1
  export AWS_ACCESS_KEY_ID=canscope-test AWS_SECRET_ACCESS_KEY=canscope-test-secret AWS_REGION=us-east-1
  cat >"$S3SERVER_DIR/s3.json" <<JSON
{"identities":[{"name":"canscope","credentials":[{"accessKey":"$AWS_ACCESS_KEY_ID","secretKey":"$AWS_SECRET_ACCESS_KEY"}],"actions":["Admin","Read","Write","List","Tagging"]}]}
JSON
  # Loopback only, telemetry off (and pointed at a dead loopback port in
  # case a default changes), no Iceberg/Lance side servers, logs, sockets
  # and data in the temp directory (but for the gRPC sockets, which weed
  # puts at /tmp/seaweedfs-*-grpc-PORT.sock: s3server_stop removes them).
  S3SERVER_PORTS="$master $volume $filer $s3"
  "$WEED_BIN" -logdir="$S3SERVER_DIR" server -s3 -filer \
    -ip=127.0.0.1 -ip.bind=127.0.0.1 -dir="$S3SERVER_DIR/data" \
    -master.port="$master" -volume.port="$volume" -filer.port="$filer" -s3.port="$s3" \
    -master.telemetry=false -master.telemetry.url=http://127.0.0.1:9/ \
    -s3.port.iceberg=0 -s3.port.lance=0 -s3.config="$S3SERVER_DIR/s3.json" \
    -filer.localSocket="$S3SERVER_DIR/filer.sock" -s3.localSocket="$S3SERVER_DIR/s3.sock" \
    -volume.max=0 -master.volumeSizeLimitMB=256 -volume.preStopSeconds=0 \
    >"$S3SERVER_DIR/weed.log" 2>&1 &
  S3SERVER_PID=$!
  export CANSCOPE_S3_TEST_ENDPOINT="http://127.0.0.1:$s3"
  for _ in $(seq 120); do
    # Ready when the gateway answers and the master can place a write
    # (the volume server has registered).
    if curl -s -o /dev/null "$CANSCOPE_S3_TEST_ENDPOINT/" 2>/dev/null &&
      curl -s "http://127.0.0.1:$master/dir/assign" 2>/dev/null | grep -q '"fid"'; then
      echo "SeaweedFS S3 on $CANSCOPE_S3_TEST_ENDPOINT (log: $S3SERVER_DIR/weed.log)"
      return 0
    fi
    if ! kill -0 "$S3SERVER_PID" 2>/dev/null; then
      echo "SeaweedFS exited:"; tail -20 "$S3SERVER_DIR/weed.log"; return 1
    fi
    sleep 0.5
  done
  echo "SeaweedFS did not answer on $CANSCOPE_S3_TEST_ENDPOINT in 60 s:"; tail -20 "$S3SERVER_DIR/weed.log"
  return 1
}

s3server_stop() {
  # Runs from the EXIT trap under set -e: no command here may fail.
  if [ -n "${S3SERVER_PID:-}" ]; then
    kill "$S3SERVER_PID" 2>/dev/null || true
    for _ in $(seq 20); do kill -0 "$S3SERVER_PID" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$S3SERVER_PID" 2>/dev/null || true
    wait "$S3SERVER_PID" 2>/dev/null || true
    S3SERVER_PID=
  fi
  if [ -n "${S3SERVER_DIR:-}" ]; then
    rm -rf "$S3SERVER_DIR" || true
  fi
  for p in ${S3SERVER_PORTS:-}; do
    rm -f /tmp/seaweedfs-*-grpc-$((p + 10000)).sock || true
  done
  S3SERVER_PORTS=
  S3SERVER_DIR=
}
