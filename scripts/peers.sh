#!/usr/bin/env bash
# Local peers for tests (contracts/connectors.md): Stripe's stripe-mock and Mailpit,
# installed into ./.cache/bin when missing and run on loopback only.
#
#   eval "$(scripts/peers.sh)"   start both, wait until they answer, print the exports
#   scripts/peers.sh stop        stop what the last start left in .cache/peers.pid
#
# stdout carries only the `export` lines; progress and errors go to stderr. When a
# default port is taken, the next free one is used (the exports say which).
# Nothing here talks to anything but 127.0.0.1 once the tools are installed: Mailpit
# runs without version checks, reverse DNS, remote CSS/fonts, relay, webhooks or POP3,
# on a temporary database, with every MP_* setting from the environment removed.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
bin=$root/.cache/bin
state=$root/.cache/peers
pidfile=$root/.cache/peers.pid

STRIPE_MOCK_VERSION=v0.203.0
MAILPIT_VERSION=v1.33.1

log() { echo "peers: $*" >&2; }

stop() {
	[ -f "$pidfile" ] || return 0
	local pid
	while read -r pid; do
		[ -n "$pid" ] || continue
		kill "$pid" 2>/dev/null || continue
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$pid" 2>/dev/null || true
	done <"$pidfile"
	rm -f "$pidfile"
	rm -rf "$state"
}

if [ "${1:-start}" = stop ]; then
	stop
	exit 0
fi
if [ "${1:-start}" != start ]; then
	echo "usage: $0 [start|stop]" >&2
	exit 2
fi

# install puts a tool into .cache/bin unless the pinned version is already there.
install_tool() {
	local name=$1 pkg=$2 version=$3
	if [ -x "$bin/$name" ] && [ "$(cat "$bin/$name.version" 2>/dev/null)" = "$version" ]; then
		return 0
	fi
	log "installing $pkg@$version into .cache/bin"
	mkdir -p "$bin"
	GOBIN=$bin GOFLAGS= go install "$pkg@$version" >&2
	echo "$version" >"$bin/$name.version"
}

# listening reports whether something accepts connections on 127.0.0.1:port.
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# free_port prints the first port from $1 up that nobody listens on and that is not
# in the taken list ($2...).
free_port() {
	local base=$1 p=$1
	shift
	while listening "$p" || [[ " $* " == *" $p "* ]]; do
		p=$((p + 1))
		if [ "$p" -gt $((base + 200)) ]; then
			log "no free port near $base"
			return 1
		fi
	done
	echo "$p"
}

# wait_http waits until url answers with any HTTP status.
wait_http() {
	local what=$1 url=$2 pid=$3 logf=$4
	for _ in $(seq 300); do
		if ! kill -0 "$pid" 2>/dev/null; then
			log "$what exited during start-up:"
			tail -20 "$logf" >&2 || true
			return 1
		fi
		if curl -s -o /dev/null --max-time 1 --noproxy '*' "$url"; then
			return 0
		fi
		sleep 0.1
	done
	log "$what did not answer at $url within 30 s"
	tail -20 "$logf" >&2 || true
	return 1
}

install_tool stripe-mock github.com/stripe/stripe-mock "$STRIPE_MOCK_VERSION"
install_tool mailpit github.com/axllent/mailpit "$MAILPIT_VERSION"

stop # a previous run's leftovers
mkdir -p "$state"
trap 'status=$?; if [ $status -ne 0 ]; then stop; fi' EXIT

stripe_http=$(free_port 12111)
stripe_https=$(free_port 12112 "$stripe_http")
smtp=$(free_port 1025 "$stripe_http" "$stripe_https")
api=$(free_port 8025 "$stripe_http" "$stripe_https" "$smtp")

# Children keep no descriptor of ours: `$(scripts/peers.sh)` returns once this script ends.
"$bin/stripe-mock" -http-addr "127.0.0.1:$stripe_http" -https-addr "127.0.0.1:$stripe_https" \
	</dev/null >"$state/stripe-mock.log" 2>&1 &
echo $! >>"$pidfile"
stripe_pid=$!

mp_unset=()
while IFS= read -r v; do mp_unset+=(-u "$v"); done < <(env | sed -n 's/^\(MP_[A-Za-z0-9_]*\)=.*/\1/p')
env "${mp_unset[@]}" "$bin/mailpit" \
	--smtp "127.0.0.1:$smtp" --listen "127.0.0.1:$api" \
	--database "$state/mailpit.db" \
	--disable-version-check --smtp-disable-rdns --block-remote-css-and-fonts \
	--allowed-hosts "127.0.0.1:$api,localhost:$api" --quiet \
	</dev/null >"$state/mailpit.log" 2>&1 &
echo $! >>"$pidfile"
mailpit_pid=$!

wait_http stripe-mock "http://127.0.0.1:$stripe_http/v1/charges/ch_123" "$stripe_pid" "$state/stripe-mock.log"
wait_http mailpit "http://127.0.0.1:$api/api/v1/messages" "$mailpit_pid" "$state/mailpit.log"
for _ in $(seq 100); do listening "$smtp" && break; sleep 0.1; done
listening "$smtp" || { log "mailpit SMTP not listening on 127.0.0.1:$smtp"; exit 1; }

log "stripe-mock on 127.0.0.1:$stripe_http (https $stripe_https), mailpit SMTP 127.0.0.1:$smtp API 127.0.0.1:$api"
echo "export STRIPE_MOCK_URL=http://127.0.0.1:$stripe_http"
echo "export MAILPIT_SMTP=127.0.0.1:$smtp MAILPIT_API=http://127.0.0.1:$api"
