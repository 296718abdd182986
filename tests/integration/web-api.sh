#!/bin/sh
# web-api.sh: the HTTP API of nomaflowd ([web] listen) with curl against a
# real daemon on a free loopback port: every endpoint, 401 without a
# session, login ok/bad/rate-limited (429 + Retry-After), a user without
# `run` refused 403 and the denial in nfctl audit, CSRF missing/wrong and
# bad or huge bodies refused with nothing changed, the security headers,
# the log stream resumed with Last-Event-ID, /api/events, and a stalled
# event-stream client dropped while the daemon keeps dispatching, logins
# whose password checks do not block the loop.  Prints
# TAP.  Needs curl, jq and python3.
#
#   top_srcdir=... top_builddir=... tests/integration/web-api.sh [TEST...]

. "$(dirname "$0")/lib.sh"

for t in curl jq python3; do
	if ! command -v $t >/dev/null 2>&1; then
		echo "1..0 # SKIP $t is not installed"
		exit 0
	fi
done

PW_A=nf-web-alice-pw-1
PW_B=nf-web-bob-pw-12

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# setup NAME: a daemon with [web], alice (ops) and bob (viewer), a job
# "hello" printing $1 lines and "sleeper".
setup() {
	new_env "$1"
	PORT=$(free_port)
	U=http://127.0.0.1:$PORT
	CJ=$D/cookies
	add "$D/nomaflow.toml" <<EOT

[web]
listen = "127.0.0.1:$PORT"

[[role]]
name = "viewer"
grants = ["view job:*"]

[[role]]
name = "ops"
grants = ["view job:*", "run job:*", "cancel job:*", "replay job:*", "enable job:*"]

[[user]]
name = "alice"
roles = ["ops"]

[[user]]
name = "bob"
roles = ["viewer"]
EOT
	job hello 'tags = ["demo"]' 'schedule = "0 3 * * *"' \
	    'params = { n = 5, pause = "0.2" }' '[[jobs.steps]]' \
	    'name = "s"' 'type = "exec"' \
	    'argv = ["/bin/sh", "-c", "i=1; while [ $i -le ${params.n} ]; do echo line $i; i=$((i+1)); sleep ${params.pause}; done"]'
	job sleeper '[[jobs.steps]]' 'name = "s"' 'type = "exec"' \
	    'argv = ["/bin/sleep", "30"]'
	start_daemon || return 1
	printf '%s\n' "$PW_A" | nf user passwd alice >/dev/null || return 1
	printf '%s\n' "$PW_B" | nf user passwd bob >/dev/null || return 1
	wait_for 5 curl -s -o /dev/null "$U/api/me"
}

# login USER PASSWORD: session cookie in $CJ, CSRF token in $CSRF.
login() {
	rm -f "$CJ"
	CSRF=$(curl -s -c "$CJ" -H 'Content-Type: application/json' \
	    -d "{\"user\": \"$1\", \"password\": \"$2\"}" "$U/api/login" |
	    jq -r .csrf)
	[ -n "$CSRF" ] && [ "$CSRF" != null ]
}

# code METHOD PATH [CURL ARGS...]: the HTTP status; the body in $D/body.
code() {
	_m=$1 _p=$2; shift 2
	curl -s -o "$D/body" -w '%{http_code}' -b "$CJ" -X "$_m" "$@" "$U$_p"
}
# get PATH: the body (logged in).
get() { curl -s -b "$CJ" "$U$1"; }
# post PATH [JSON]: with the CSRF header; the body.
post() {
	curl -s -b "$CJ" -H "X-CSRF-Token: $CSRF" \
	    -H 'Content-Type: application/json' -X POST \
	    ${2:+-d "$2"} "$U$1"
}
nruns() { nfj runs --limit 1000 | jq length; }
# finish: stop the daemon, check it exited cleanly (sanitizer builds:
# nothing reported), end the test.
finish() {
	if daemon_alive; then
		stop_daemon
		check "the daemon exits 0" eq "$DRC" 0
	fi
	check "no sanitizer report" sh -c \
	    "! grep -q 'Sanitizer\\|runtime error' '$D/daemon.log'"
	end
}
body() { cat "$D/body"; }

t_off_by_default() {
	begin "without [web] nothing listens; a bad [web] is refused with file:line:col"
	new_env off
	PORT=$(free_port)
	start_daemon || { T_OK=0; end; return; }
	check "no listener" test "$(curl -s -o /dev/null -w '%{http_code}' \
	    "http://127.0.0.1:$PORT/api/me")" = 000
	stop_daemon
	printf '\n[web]\nlisten = "127.0.0.1:http"\n' >> "$D/nomaflow.toml"
	out=$("$NOMAFLOWD" -n -f "$D/nomaflow.toml" 2>&1); rc=$?
	check "nomaflowd -n refuses" test "$rc" -ne 0
	check "with where and what" contains "$out" \
	    "nomaflow.toml:$(grep -c '' "$D/nomaflow.toml"):10: web.listen \"127.0.0.1:http\": the port must be 1..65535"
	finish
}

t_auth() {
	begin "401 without a session; login ok and bad; logout ends the session; headers and CSP on every response"
	setup auth || { T_OK=0; end; return; }
	rm -f "$CJ"
	check "GET /api/jobs without a session: 401" eq "$(code GET /api/jobs)" 401
	check "with a JSON error" eq "$(body | jq -r .error.code)" unauthorized
	check "POST without a session: 401" eq "$(code POST /api/jobs/hello/run)" 401
	check "bad password: 401" eq "$(code POST /api/login -H 'Content-Type: application/json' \
	    -d '{"user":"alice","password":"wrong-password"}')" 401
	check "no cookie set" test ! -s "$CJ" -o -z "$(grep nf_session "$CJ" 2>/dev/null)"
	check "login ok" login alice "$PW_A"
	check "the cookie is HttpOnly and SameSite=Strict" contains \
	    "$(curl -s -D - -o /dev/null -H 'Content-Type: application/json' \
	    -d "{\"user\":\"alice\",\"password\":\"$PW_A\"}" "$U/api/login")" \
	    "HttpOnly; SameSite=Strict"
	check "GET /api/me" eq "$(get /api/me | jq -r '.identity + " " + (.jobs.hello | join(","))')" \
	    "web:alice view,run,cancel,replay,enable"
	h=$(curl -s -D - -o /dev/null -b "$CJ" "$U/api/jobs")
	check "CSP" contains "$h" "Content-Security-Policy: default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
	check "nosniff" contains "$h" "X-Content-Type-Options: nosniff"
	check "Referrer-Policy" contains "$h" "Referrer-Policy: same-origin"
	h=$(curl -s -D - -o /dev/null "$U/api/nothing")
	check "headers on errors too" contains "$h" "Content-Security-Policy: default-src 'self'"
	check "logout" eq "$(post /api/logout | jq -r .ok)" true
	check "the session is gone" eq "$(code GET /api/jobs)" 401
	finish
}

t_rate_limit() {
	begin "repeated bad logins are rate limited: 429 with Retry-After, even with the right password"
	setup ratelimit || { T_OK=0; end; return; }
	for i in 1 2 3 4 5 6; do
		c=$(code POST /api/login -H 'Content-Type: application/json' \
		    -d '{"user":"alice","password":"wrong-password"}')
	done
	check "blocked after repeated failures" eq "$c" 429
	h=$(curl -s -D - -o "$D/body" -H 'Content-Type: application/json' \
	    -d "{\"user\":\"alice\",\"password\":\"$PW_A\"}" "$U/api/login")
	check "the right password is blocked too" contains "$h" "HTTP/1.1 429"
	check "Retry-After" contains "$h" "Retry-After: "
	check "JSON error" eq "$(body | jq -r .error.code)" too_many_requests
	finish
}

t_endpoints() {
	begin "every read endpoint, run, enable/disable, cancel, replay, as web:alice"
	setup endpoints || { T_OK=0; end; return; }
	login alice "$PW_A" || { T_OK=0; end; return; }
	check "status" eq "$(get /api/status | jq -r '.jobs')" 2
	check "jobs" eq "$(get /api/jobs | jq -r '[.[].id] | join(",")')" hello,sleeper
	check "jobs?tag=" eq "$(get '/api/jobs?tag=demo' | jq -r '[.[].id] | join(",")')" hello
	check "jobs?search=" eq "$(get '/api/jobs?search=SLEEP' | jq -r '[.[].id] | join(",")')" sleeper
	check "job detail" eq "$(get /api/jobs/hello | jq -r '.steps[0].name')" s
	check "unknown job: 404" eq "$(code GET /api/jobs/nope)" 404
	check "next fires" eq "$(get '/api/jobs/hello/next?n=3' | jq length)" 3
	check "bad n: 400" eq "$(code GET '/api/jobs/hello/next?n=x')" 400
	r=$(post /api/jobs/hello/run '{"params": {"n": 2, "pause": "0"}}' | jq -r .run_id)
	check "run" test "$r" -gt 0
	wait_run "$r"
	check "run detail: triggered by web:alice" eq \
	    "$(get "/api/runs/$r" | jq -r '.state + " " + .triggered_by')" "succeeded web:alice"
	check "log" eq "$(get "/api/runs/$r/log" | jq -r '[.lines[] | select(.stream == "stdout") | .line] | join(",")')" "line 1,line 2"
	check "log?after=" eq "$(get "/api/runs/$r/log?after=3" | jq -r '.lines[0].seq')" 4
	check "runs" eq "$(get "/api/runs?job=hello&state=succeeded" | jq -r '.[0].id')" "$r"
	check "runs?limit=" eq "$(get "/api/runs?limit=1" | jq length)" 1
	check "bad run id: 404" eq "$(code GET /api/runs/abc)" 404
	check "no such run: 404" eq "$(code GET /api/runs/9999)" 404
	rp=$(post "/api/runs/$r/replay" | jq -r .run_id)
	check "replay" test "$rp" -gt "$r"
	wait_run "$rp"
	check "the replay has the params and trigger replay" eq \
	    "$(nfj run show "$rp" | jq -r '.trigger + " " + .triggered_by + " " + (.params.n | tostring)')" \
	    "replay web:alice 2"
	s=$(post /api/jobs/sleeper/run | jq -r .run_id)
	wait_for 5 sh -c "[ \"\$($NFCTL -s $SOCK --json run show $s | jq -r .state)\" = running ]"
	check "a second run while one runs: 409" eq "$(code POST /api/jobs/sleeper/run \
	    -H "X-CSRF-Token: $CSRF")" 409
	check "cancel" eq "$(code POST "/api/runs/$s/cancel" -H "X-CSRF-Token: $CSRF")" 200
	wait_run "$s"
	check "canceled" eq "$(run_state "$s")" canceled
	check "disable" eq "$(post /api/jobs/hello/disable | jq -r .enabled)" false
	check "disabled" eq "$(nfj jobs | jq -r '.[] | select(.id == "hello") | .enabled')" false
	check "enable" eq "$(post /api/jobs/hello/enable | jq -r .enabled)" true
	check "runs?trigger=" eq "$(get "/api/runs?trigger=replay" | jq -r '[.[].id] | join(",")')" "$rp"
	p1=$(get "/api/runs?limit=2&before=1000000" | jq -r '[.[].id] | join(",")')
	check "keyset page 1: the newest ids" eq "$p1" "$s,$rp"
	check "page 2: before the smallest id of page 1" eq \
	    "$(get "/api/runs?limit=2&before=$rp" | jq -r '[.[].id] | join(",")')" "$r"
	check "until excludes later runs" eq \
	    "$(get "/api/runs?until=$(nfj run show "$rp" | jq .created_at)" | jq -r '[.[].id] | join(",")')" "$r"
	check "bad before: 400" eq "$(code GET '/api/runs?before=x')" 400
	check "audited as web:alice" contains "$(nf audit)" "web:alice"
	check "unknown route: 404" eq "$(code GET /api/nothing)" 404
	check "PUT: 405" eq "$(code PUT /api/jobs)" 405
	finish
}

t_perm() {
	begin "a user without run: 403 on POST run, the denial in nfctl audit, nothing runs"
	setup perm || { T_OK=0; end; return; }
	login bob "$PW_B" || { T_OK=0; end; return; }
	check "bob sees the jobs" eq "$(get /api/jobs | jq length)" 2
	check "his verbs" eq "$(get /api/me | jq -r '.jobs.hello | join(",")')" view
	n0=$(nruns)
	check "POST run: 403" eq "$(code POST /api/jobs/hello/run -H "X-CSRF-Token: $CSRF")" 403
	check "the message names the grant" contains "$(body | jq -r .error.message)" \
	    "permission denied"
	check "enable: 403" eq "$(code POST /api/jobs/hello/disable -H "X-CSRF-Token: $CSRF")" 403
	check "no run" eq "$(nruns)" "$n0"
	a=$(nfj audit --user web:bob)
	check "the denial is audited" eq "$(printf '%s' "$a" | jq -r '[.[] | select(.action == "run" and .result == "denied")] | length')" 1
	finish
}

t_csrf() {
	begin "CSRF missing or wrong: 403 and nothing changed; bad JSON and a huge body: 4xx and nothing changed"
	setup csrf || { T_OK=0; end; return; }
	login alice "$PW_A" || { T_OK=0; end; return; }
	n0=$(nruns)
	check "no token: 403" eq "$(code POST /api/jobs/hello/run -H 'Content-Type: application/json' -d '{}')" 403
	check "says why" contains "$(body | jq -r .error.message)" "missing CSRF token"
	check "wrong token: 403" eq "$(code POST /api/jobs/hello/run -H 'X-CSRF-Token: AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' -d '{}')" 403
	check "form field, wrong: 403" eq "$(code POST /api/jobs/hello/run -H 'Content-Type: application/x-www-form-urlencoded' -d 'csrf=nope')" 403
	check "disable, no token: 403" eq "$(code POST /api/jobs/hello/disable)" 403
	check "still enabled" eq "$(nfj jobs | jq -r '.[] | select(.id == "hello") | .enabled')" true
	check "bad JSON: 400" eq "$(code POST /api/jobs/hello/run -H "X-CSRF-Token: $CSRF" \
	    -H 'Content-Type: application/json' --data-binary "$(printf '{\n  "params": {"n": 1,}\n}')")" 400
	check "with line and column" contains "$(body | jq -r .error.message)" "line 2"
	check "not an object: 400" eq "$(code POST /api/jobs/hello/run -H "X-CSRF-Token: $CSRF" -H 'Content-Type: application/json' -d '[1]')" 400
	check "unknown field: 400" eq "$(code POST /api/jobs/hello/run -H "X-CSRF-Token: $CSRF" -H 'Content-Type: application/json' -d '{"parms": {}}')" 400
	check "bad param type: 400" eq "$(code POST /api/jobs/hello/run -H "X-CSRF-Token: $CSRF" -H 'Content-Type: application/json' -d '{"params": {"n": "many"}}')" 400
	python3 -c 'print("{\"params\": {\"n\": \"" + "x" * 100000 + "\"}}")' > "$D/huge.json"
	check "huge body: 413" eq "$(code POST /api/jobs/hello/run -H "X-CSRF-Token: $CSRF" -H 'Content-Type: application/json' --data-binary "@$D/huge.json")" 413
	check "huge chunked body: 413" eq "$(code POST /api/jobs/hello/run -H "X-CSRF-Token: $CSRF" -H 'Content-Type: application/json' -H 'Transfer-Encoding: chunked' --data-binary "@$D/huge.json")" 413
	check "nothing ran" eq "$(nruns)" "$n0"
	check "the daemon is fine" eq "$(code GET /api/status)" 200
	finish
}

# sse PATH [CURL ARGS...]: the event stream until it ends (or 20 s).
sse() {
	_p=$1; shift
	curl -s -N -m 20 -b "$CJ" "$@" "$U$_p"
}
ids() { sed -n 's/^id: //p' | tr '\n' ' ' | sed 's/ $//'; }

t_sse_log() {
	begin "log stream: read a few events, disconnect, reconnect with Last-Event-ID and get exactly the rest"
	setup ssel || { T_OK=0; end; return; }
	login alice "$PW_A" || { T_OK=0; end; return; }
	r=$(post /api/jobs/hello/run '{"params": {"n": 12, "pause": "0.15"}}' | jq -r .run_id)
	# The first four records with an id, then hang up.
	sse "/api/runs/$r/log/stream" | grep --line-buffered '^id: ' | head -n 4 > "$D/first"
	last=$(tail -n 1 "$D/first" | sed 's/^id: //')
	check "four events read" eq "$(grep -c '' "$D/first")" 4
	sse "/api/runs/$r/log" -H 'Accept: text/event-stream' -H "Last-Event-ID: $last" > "$D/rest"
	wait_run "$r"
	all=$(get "/api/runs/$r/log" | jq -r '[.lines[].seq] | map(tostring) | join(" ")')
	got="$(ids < "$D/first") $(ids < "$D/rest")"
	check "together exactly every line, once, in order" eq "$got" "$all"
	check "the stream ends with the run's end" contains "$(tail -n 3 "$D/rest")" '"state":"succeeded"'
	check "log lines as JSON" contains "$(cat "$D/rest")" '"line":"line 12"'
	# Resuming a finished run's log: the rest, then end.
	sse "/api/runs/$r/log/stream" -H "Last-Event-ID: $last" > "$D/again"
	check "resume after the end: the same rest" eq "$(ids < "$D/again")" "$(ids < "$D/rest")"
	finish
}

t_sse_events() {
	begin "/api/events: state changes and step transitions; resume with Last-Event-ID"
	setup ssee || { T_OK=0; end; return; }
	login alice "$PW_A" || { T_OK=0; end; return; }
	curl -s -N -m 6 -b "$CJ" "$U/api/events" > "$D/events" &
	cp=$!
	sleep 0.5
	r=$(post /api/jobs/hello/run '{"params": {"n": 1, "pause": "0"}}' | jq -r .run_id)
	wait_run "$r"
	wait "$cp"
	check "a state event" contains "$(cat "$D/events")" "event: state"
	check "a step event" contains "$(cat "$D/events")" "event: step"
	check "an end event" contains "$(cat "$D/events")" "\"run_id\":$r,\"state\":\"succeeded\""
	check "with the job" contains "$(cat "$D/events")" '"job_id":"hello"'
	first=$(ids < "$D/events" | cut -d' ' -f1)
	curl -s -N -m 2 -b "$CJ" -H "Last-Event-ID: $first" "$U/api/events" > "$D/events2"
	check "resume: the events after it" eq "$(ids < "$D/events2")" \
	    "$(ids < "$D/events" | cut -d' ' -f2-)"
	finish
}

t_sse_stall() {
	begin "a client that stops reading its stream is dropped; the daemon keeps dispatching"
	setup stall || { T_OK=0; end; return; }
	login alice "$PW_A" || { T_OK=0; end; return; }
	sid=$(awk '$6 == "nf_session" { print $7 }' "$CJ")
	# A job that writes ~8 MB of log over a few seconds, after the
	# stalled client connected (a backlog that large would be sent in
	# parts, each stream ending at the buffer size).
	job chatty '[[jobs.steps]]' 'name = "s"' 'type = "exec"' \
	    'argv = ["/bin/sh", "-c", "sleep 3; j=0; while [ $j -lt 50 ]; do i=0; while [ $i -lt 1000 ]; do echo xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx $j $i; i=$((i+1)); done; sleep 0.1; j=$((j+1)); done"]'
	nf reload >/dev/null
	r=$(post /api/jobs/chatty/run | jq -r .run_id)
	# Connects, asks for the stream, never reads (small receive buffer).
	python3 - "$PORT" "$r" "$sid" > "$D/stall.out" 2>&1 <<'EOPY' &
import socket, sys, time
port, run, sid = sys.argv[1:4]
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("127.0.0.1", int(port)))
s.sendall(("GET /api/runs/%s/log/stream HTTP/1.1\r\nHost: x\r\n"
           "Cookie: nf_session=%s\r\n\r\n" % (run, sid)).encode())
time.sleep(25)
EOPY
	pp=$!
	check "the client connected while the job was still quiet" wait_for 3 \
	    grep -q "web:alice: logs" "$D/daemon.log"
	check "the stalled stream is dropped" wait_for 20 grep -q \
	    "stopped reading (buffer full); dropping it" "$D/daemon.log"
	wait_run "$r" 30
	check "the chatty run finished" eq "$(run_state "$r")" succeeded
	t0=$(date +%s%N)
	r2=$(post /api/jobs/hello/run '{"params": {"n": 1, "pause": "0"}}' | jq -r .run_id)
	wait_run "$r2" 5
	check "and the daemon dispatches another at once" eq "$(run_state "$r2")" succeeded
	check "within 5 s" test $(( ($(date +%s%N) - t0) / 1000000 )) -lt 5000
	kill "$pp" 2>/dev/null
	wait "$pp" 2>/dev/null
	finish
}

# t_login_off_loop: the password checks do not stall the loop.  Ordering,
# not timings: each check costs ~170 ms (argon2id) and they are done one
# after the other, so a GET /api/status sent while 5 logins are in flight
# is answered before the second of them, unless the loop waits for them.
# (5: more checks at once from one address than fail_max are refused.)
t_login_off_loop() {
	begin "logins in flight do not block the loop; a client gone or a stop meanwhile is harmless"
	setup loginloop || { T_OK=0; end; return; }
	login alice "$PW_A" || { T_OK=0; end; return; }
	: > "$D/order"
	pids=
	for i in 1 2 3 4 5; do
		( c=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
		    -d "{\"user\":\"alice\",\"password\":\"$PW_A\"}" "$U/api/login")
		  echo "login $c" >> "$D/order" ) &
		pids="$pids $!"
	done
	sleep 0.2
	c=$(code GET /api/status)
	echo "status $c" >> "$D/order"
	wait $pids
	check "status answered" eq "$c" 200
	check "every login answered 200" eq "$(grep -c '^login 200$' "$D/order")" 5
	check "status before the second login ended" test \
	    "$(grep -n '^status' "$D/order" | cut -d: -f1)" -le 2
	# A client that leaves during its check; then a stop during one.
	curl -s -o /dev/null -m 0.05 -H 'Content-Type: application/json' \
	    -d "{\"user\":\"alice\",\"password\":\"$PW_A\"}" "$U/api/login"
	sleep 0.5
	check "still serving" eq "$(code GET /api/status)" 200
	curl -s -o "$D/late" -H 'Content-Type: application/json' \
	    -d "{\"user\":\"bob\",\"password\":\"$PW_B\"}" "$U/api/login" &
	p=$!
	sleep 0.05
	stop_daemon
	check "exit 0 with a login in flight" eq "$DRC" 0
	wait $p
	finish
}

t_shutdown() {
	begin "the daemon stops cleanly with streams open"
	setup shutdown || { T_OK=0; end; return; }
	login alice "$PW_A" || { T_OK=0; end; return; }
	s=$(post /api/jobs/sleeper/run | jq -r .run_id)
	curl -s -N -m 20 -b "$CJ" "$U/api/events" > /dev/null &
	c1=$!
	curl -s -N -m 20 -b "$CJ" "$U/api/runs/$s/log/stream" > "$D/s2" &
	c2=$!
	sleep 0.5
	nf cancel "$s" >/dev/null
	wait_run "$s"
	stop_daemon
	check "exit 0" eq "$DRC" 0
	wait "$c1" "$c2" 2>/dev/null
	check "the streams were closed" eq "$(jobs -p | wc -l)" 0
	check "stopped in the log" grep -q "stopped" "$D/daemon.log"
	finish
}

t_proxy() {
	begin "a trusted proxy's user header is the account; from elsewhere it is ignored; reload; /metrics needs audit"
	setup proxy || { T_OK=0; end; return; }
	stop_daemon
	sed -i 's/^listen = .*/&\ntrusted_proxies = ["127.0.0.2"]/' "$D/nomaflow.toml"
	start_daemon || { T_OK=0; end; return; }
	rm -f "$CJ"
	check "through the proxy (127.0.0.2): alice" eq "$(curl -s --interface 127.0.0.2 \
	    -H 'X-Remote-User: alice' "$U/api/me" | jq -r .identity)" web:alice
	check "the header from elsewhere: 401" eq "$(code GET /api/me -H 'X-Remote-User: alice')" 401
	check "an account without [[user]] entry: 401" eq "$(curl -s -o /dev/null -w '%{http_code}' \
	    --interface 127.0.0.2 -H 'X-Remote-User: mallory' "$U/api/me")" 401
	tok=$(curl -s --interface 127.0.0.2 -H 'X-Remote-User: alice' "$U/api/me" | jq -r .csrf)
	check "a POST through the proxy still needs the CSRF token" eq \
	    "$(curl -s -o /dev/null -w '%{http_code}' --interface 127.0.0.2 \
	    -H 'X-Remote-User: alice' -X POST "$U/api/jobs/hello/disable")" 403
	check "and works with it" eq "$(curl -s --interface 127.0.0.2 -H 'X-Remote-User: alice' \
	    -H "X-CSRF-Token: $tok" -X POST "$U/api/jobs/hello/disable" | jq -r .enabled)" false
	check "disabled, audited as web:alice" contains "$(nf audit)" "web:alice"
	# A reload applies trusted_proxies at once; a new listen waits.
	sed -i 's/"127.0.0.2"/"127.0.0.3"/; s/^listen = "127.0.0.1:\([0-9]*\)"/listen = "127.0.0.1:1"/' "$D/nomaflow.toml"
	check "reload" nf reload
	check "the old proxy is not trusted any more" eq "$(curl -s -o /dev/null -w '%{http_code}' \
	    --interface 127.0.0.2 -H 'X-Remote-User: alice' "$U/api/me")" 401
	check "the new one is" eq "$(curl -s --interface 127.0.0.3 \
	    -H 'X-Remote-User: alice' "$U/api/me" | jq -r .identity)" web:alice
	check "a new listen address waits for a restart" grep -q \
	    "\[web\] listen, tls_cert or tls_key changed; the change takes effect at the next restart" "$D/daemon.log"
	check "/metrics without a session: 401" eq "$(code GET /metrics)" 401
	login bob "$PW_B"
	check "/metrics without audit: 403" eq "$(code GET /metrics)" 403
	finish
}

t_tls() {
	begin "tls_cert and tls_key: HTTPS, and the session cookie is Secure"
	if ! command -v openssl >/dev/null 2>&1; then
		T_NUM=$((T_NUM + 1))
		echo "ok $T_NUM - $T_CUR # SKIP openssl is not installed" >&3
		return
	fi
	new_env tls
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
	    -keyout "$D/key.pem" -out "$D/cert.pem" >/dev/null 2>&1
	PORT=$(free_port)
	U=https://127.0.0.1:$PORT
	printf '\n[web]\nlisten = "127.0.0.1:%s"\ntls_cert = "cert.pem"\ntls_key = "key.pem"\n\n[[user]]\nname = "alice"\nroles = []\n' \
	    "$PORT" >> "$D/nomaflow.toml"
	start_daemon || { T_OK=0; end; return; }
	printf '%s\n' "$PW_A" | nf user passwd alice >/dev/null
	check "plain HTTP is not served" test "$(curl -s -o /dev/null -w '%{http_code}' \
	    "http://127.0.0.1:$PORT/api/me")" != 401
	h=$(curl -s -k -D - -o /dev/null -H 'Content-Type: application/json' \
	    -d "{\"user\":\"alice\",\"password\":\"$PW_A\"}" "$U/api/login")
	check "login over HTTPS" contains "$h" "HTTP/1.1 200"
	check "the cookie is Secure" contains "$h" "SameSite=Strict; Secure"
	finish
}

ALL="t_off_by_default t_auth t_rate_limit t_endpoints t_perm t_csrf t_proxy t_tls t_sse_log t_sse_events t_sse_stall t_shutdown t_login_off_loop"
for t in ${*:-$ALL}; do
	$t
done
echo "1..$T_NUM"
