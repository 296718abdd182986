#!/bin/bash
# web-ui.sh: the web UI in a real browser.  Starts nomaflowd with [web] on
# a free local port, two UI accounts (an operator who may run and cancel,
# a viewer who may only view) and three jobs, then runs tests/web/ui.js:
# headless Chromium (Debian's chromium) driven by puppeteer-core, which
# this script installs from npm into the build tree when it is missing
# (NF_WEB_NODE_DIR overrides where).  Log in, the catalogue, Run now with
# a parameter, log lines arriving live, cancel a long run, an API error in
# the form, a viewer without the Run button and with a 403 from the API.
# Screenshots: tests/web-ui-shots/ in the build tree.
. "$(dirname "$0")/lib.sh"

PUPPETEER_VERSION=24.10.0	# the last line supporting node 18 (Debian 12)
NODE_DIR=${NF_WEB_NODE_DIR:-$top_builddir/tests/web/node}
SHOTS=$top_builddir/tests/web-ui-shots
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
OP_PASS=operator-pass-1
VIEW_PASS=viewer-pass-12

skip_all() {
	echo "1..0 # SKIP $1"
	exit 0
}

command -v node >/dev/null 2>&1 || skip_all "node is not installed (scripts/deps.sh --test)"
[ -x "$CHROMIUM" ] || skip_all "$CHROMIUM is not installed (scripts/deps.sh --test)"

if [ ! -d "$NODE_DIR/node_modules/puppeteer-core" ]; then
	mkdir -p "$NODE_DIR"
	if ! npm install --prefix "$NODE_DIR" --no-audit --no-fund \
	    --loglevel=error "puppeteer-core@$PUPPETEER_VERSION" >&2; then
		echo "1..1"
		echo "not ok 1 - npm install puppeteer-core@$PUPPETEER_VERSION into $NODE_DIR failed (is the npm registry reachable?)"
		exit 1
	fi
fi

# A free port: bind 0, read it back.
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

t_browser() {
	new_env ui
	PORT=$(free_port)
	cat >> "$D/nomaflow.toml" <<EOT

[web]
listen = "127.0.0.1:$PORT"

[[role]]
name = "operator"
grants = ["run job:*", "cancel job:*", "replay job:*"]

[[role]]
name = "viewer"
grants = ["view job:*"]

[[user]]
name = "opal"
roles = ["operator"]

[[user]]
name = "vera"
roles = ["viewer"]
EOT
	job greet 'description = "Says hello <b>slowly</b>"' \
	    'params = { who = "world", count = 1 }' \
	    '[[jobs.steps]]' 'name = "hello"' 'type = "exec"' \
	    'argv = ["/bin/sh", "-c", "for i in 1 2 3; do echo \"hello ${params.who} line $i\"; sleep 1; done"]'
	job slow '[[jobs.steps]]' 'name = "wait"' 'type = "exec"' \
	    'argv = ["/bin/sh", "-c", "echo slow started; exec sleep 120"]'
	job nightly 'schedule = "0 2 * * *"' 'tags = ["ops"]' \
	    '[[jobs.steps]]' 'name = "s"' 'type = "exec"' \
	    'argv = ["/bin/true"]'
	begin "the daemon serves the UI on 127.0.0.1:$PORT"
	start_daemon || { T_OK=0; end; return; }
	check "opal's password" sh -c "printf '%s\n' '$OP_PASS' | '$NFCTL' -s '$SOCK' user passwd opal"
	check "vera's password" sh -c "printf '%s\n' '$VIEW_PASS' | '$NFCTL' -s '$SOCK' user passwd vera"
	check "the login page answers" wait_for 5 curl -fsS "http://127.0.0.1:$PORT/login"
	check "strict CSP on pages" contains \
	    "$(curl -sS -D - -o /dev/null "http://127.0.0.1:$PORT/login")" \
	    "Content-Security-Policy: default-src 'self'; script-src 'self'"
	check "app.js is served" contains \
	    "$(curl -sS -D - -o /dev/null "http://127.0.0.1:$PORT/static/app.js")" \
	    "text/javascript"
	if [ "$T_OK" -ne 1 ]; then
		end
		return
	fi
	T_NUM=$((T_NUM + 1))
	echo "ok $T_NUM - $T_CUR" >&3

	rm -rf "$SHOTS"
	mkdir -p "$SHOTS"
	out=$(BASE="http://127.0.0.1:$PORT" NODE_DIR="$NODE_DIR" \
	    CHROMIUM="$CHROMIUM" SHOTS="$SHOTS" OP_USER=opal OP_PASS=$OP_PASS \
	    VIEW_USER=vera VIEW_PASS=$VIEW_PASS \
	    timeout 300 node "$top_srcdir/tests/web/ui.js" 2>&1)
	rc=$?
	# One TAP line per check of the browser session.
	while IFS= read -r line; do
		case $line in
		PASS\ *)
			T_NUM=$((T_NUM + 1))
			echo "ok $T_NUM - browser: ${line#PASS }" >&3 ;;
		FAIL\ *)
			T_NUM=$((T_NUM + 1))
			T_FAILED=$((T_FAILED + 1))
			echo "not ok $T_NUM - browser: ${line#FAIL }" >&3 ;;
		*)
			diag "$line" ;;
		esac
	done <<< "$out"
	if [ "$rc" -ne 0 ] && ! grep -q '^FAIL ' <<< "$out"; then
		T_NUM=$((T_NUM + 1))
		T_FAILED=$((T_FAILED + 1))
		echo "not ok $T_NUM - browser: node exited $rc" >&3
	fi
	begin "the daemon survived the browser session"
	check "daemon alive" daemon_alive
	if [ "$T_FAILED" -gt 0 ]; then
		diag "daemon log (tail):"
		tail -n 25 "$D/daemon.log" | sed 's/^/#   /' >&3
		diag "screenshots in $SHOTS"
	fi
	end
}

t_browser
echo "1..$T_NUM"
