#!/bin/sh
# http.sh: real-daemon tests of the http step against the local test server
# (tests/services/http_test_server.py): statuses, timeouts, redirects, JSON
# in and out, bearer/basic/OAuth2 auth whose secrets never reach a log, the
# history or the store, a 50 MB download with save_to, the body cap and TLS
# verification.  Prints TAP.  Needs jq and /usr/bin/python3.
#
# The server is the one scripts/test.sh started (tests/services/http.env),
# or a private one this script starts and stops.
#
#   top_srcdir=... top_builddir=... tests/integration/http.sh [TEST...]

. "$(dirname "$0")/lib.sh"

if ! command -v jq >/dev/null 2>&1; then
	echo "1..0 # SKIP jq is not installed"
	exit 0
fi
if [ ! -x /usr/bin/python3 ]; then
	echo "1..0 # SKIP /usr/bin/python3 (the test server) is not installed"
	exit 0
fi

SERVICES=$top_srcdir/tests/services
# The test server's fixed credentials (http_test_server.py).
BEARER=nf-test-bearer-4d1f9a27
BASIC_USER=nf-user
BASIC_PASS=nf-test-pass-83be51c0
CLIENT_SECRET=nf-test-client-secret-c29e7d
ACCESS_PREFIX=nf-test-access-
BASIC_B64=$(printf '%s:%s' "$BASIC_USER" "$BASIC_PASS" | base64)

OWN_ENV=
TLS_PID=
http_cleanup() {
	[ -n "$TLS_PID" ] && kill "$TLS_PID" 2>/dev/null
	[ -n "$OWN_ENV" ] && NF_HTTP_ENV=$OWN_ENV "$SERVICES/http-down.sh"
	cleanup_all
}
trap http_cleanup EXIT

# The server: the suite's, else our own.
if [ -z "${NF_HTTP_URL:-}" ] && [ -f "$SERVICES/http.env" ]; then
	. "$SERVICES/http.env"
fi
if [ -z "${NF_HTTP_URL:-}" ] || ! /usr/bin/python3 -c 'import sys, urllib.request
urllib.request.urlopen(sys.argv[1] + "/health", timeout=2)' "$NF_HTTP_URL" \
    2>/dev/null; then
	OWN_ENV=$T_ROOT/http.env
	if ! NF_HTTP_ENV=$OWN_ENV "$SERVICES/http-up.sh" >/dev/null; then
		echo "1..0 # SKIP the test HTTP server did not start"
		exit 0
	fi
	. "$OWN_ENV"
fi
URL=$NF_HTTP_URL

# http_job ID TOML-LINES...: one job with one http step named "h".
http_job() {
	_id=$1; shift
	job "$_id" '[[jobs.steps]]' 'name = "h"' 'type = "http"' "$@"
}

# run_job ID: run it to its end; sets RUN (id) and SHOW (run show --json).
run_job() {
	RUN=$(nfj run "$1" | jq -r .run_id)
	wait_run "$RUN" 30
	SHOW=$(nfj run show "$RUN")
}
# (printf, not echo: dash's echo rewrites backslashes in the JSON.)
att() { printf '%s\n' "$SHOW" | jq -r ".attempts[${2:-0}] | $1"; }
state() { printf '%s\n' "$SHOW" | jq -r "$1"; }

skip() {
	T_NUM=$((T_NUM + 1))
	echo "ok $T_NUM - $1 # SKIP $2" >&3
}

# ---------------------------------------------------------------------------
t_http_json() {
	begin "GET: status, selected headers, body and JSON parsed into output.json"
	new_env json
	http_job fetch "url = \"$URL/json\"" \
	    'output_headers = ["Content-Type", "X-Not-Sent"]' \
	    '[[jobs.steps]]' 'name = "use"' 'type = "exec"' \
	    'argv = ["/bin/echo", "first id ${steps.h.output.json.items[0].id}"]'
	start_daemon || { T_OK=0; end; return; }
	run_job fetch
	check "run succeeded" eq "$(state .state)" succeeded
	check "status 200" eq "$(att .output.status)" 200
	check "selected header kept" eq "$(att '.output.headers["Content-Type"]')" application/json
	check "absent header absent" eq "$(att '.output.headers | keys | join(",")')" Content-Type
	check "json items[0].id" eq "$(att '.output.json.items[0].id')" 7
	check "json types kept" eq "$(att '.output.json | [.n, .pi, .ok, .none] | tojson')" '[42,3.5,true,null]'
	check "body text kept" contains "$(att .output.body)" '"hello": "world"'
	check "bytes counted" eq "$(att .output.bytes)" "$(att '.output.body | length')"
	check "url in output" eq "$(att .output.url)" "$URL/json"
	check "request logged" contains "$(nf logs "$RUN")" "GET $URL/json: status 200"
	check "a later step's template reads output.json" contains "$(nf logs "$RUN")" "first id 7"
	end
}

t_http_post() {
	begin "POST: table body sent as JSON, query and headers sent, echo parsed"
	new_env post
	http_job post 'method = "POST"' "url = \"$URL/echo?fixed=1\"" \
	    'query = { page = 2, q = "a b&c", flag = true }' \
	    'headers = { X-Trace = "t-1" }' \
	    'body = { name = "x", n = 3, list = [1, 2.5, "z"], inner = { ok = true } }'
	http_job put 'method = "PUT"' "url = \"$URL/echo\"" 'body = "plain text"' \
	    'headers = { Content-Type = "text/plain" }'
	start_daemon || { T_OK=0; end; return; }
	run_job post
	check "run succeeded" eq "$(state .state)" succeeded
	check "method POST" eq "$(att .output.json.method)" POST
	check "query merged and encoded" eq "$(att '.output.json.query | [.fixed, .page, .q, .flag] | join("|")')" "1|2|a b&c|true"
	check "header sent" eq "$(att '.output.json.headers["X-Trace"]')" t-1
	check "content type JSON" eq "$(att '.output.json.headers["Content-Type"]')" application/json
	check "body is the table as JSON" eq "$(att '.output.json.body | fromjson | tojson')" \
	    '{"name":"x","n":3,"list":[1,2.5,"z"],"inner":{"ok":true}}'
	run_job put
	check "PUT with a string body" eq "$(att '.output.json | "\(.method) \(.body) \(.headers["Content-Type"])"')" "PUT plain text text/plain"
	end
}

t_http_status() {
	begin "expect_status: default 2xx, lists, classes and ranges; failures name method, URL, status, body"
	new_env status
	http_job s404 "url = \"$URL/status/404\""
	http_job ok404 "url = \"$URL/status/404\"" 'expect_status = [200, 404]'
	http_job ok4xx "url = \"$URL/status/418\"" 'expect_status = "4xx"'
	http_job range "url = \"$URL/status/503\"" 'expect_status = ["200-299", 304]'
	job retried 'retry = { attempts = 2, backoff = "fixed", base_seconds = 0.1 }' \
	    '[[jobs.steps]]' 'name = "h"' 'type = "http"' "url = \"$URL/status/500\""
	start_daemon || { T_OK=0; end; return; }
	run_job s404
	check "404 fails" eq "$(att '"\(.state) \(.reason)"')" "failed error"
	err=$(att .error)
	check "error names method and URL" contains "$err" "GET $URL/status/404"
	check "error names status and expectation" contains "$err" "returned status 404, expected 2xx"
	check "error quotes the body" contains "$err" '"status 404"'
	run_job ok404
	check "404 in a list succeeds" eq "$(att '"\(.state) \(.output.status)"')" "succeeded 404"
	run_job ok4xx
	check "418 in 4xx succeeds" eq "$(att .state)" succeeded
	run_job range
	check "503 outside the range fails" contains "$(att .error)" "expected 2xx, 304"
	run_job retried
	check "retried by the job's policy" eq "$(state '[.attempts[] | .state] | join(",")')" "failed,failed"
	end
}

t_http_timeout() {
	begin "a slow server hits the step timeout: reason timeout"
	new_env timeout
	http_job slow "url = \"$URL/delay/5000\"" 'timeout_seconds = 1'
	http_job slow4 "url = \"$URL/delay/10000\"" 'timeout_seconds = 4'
	start_daemon || { T_OK=0; end; return; }
	t0=$(date +%s)
	run_job slow
	check "failed with reason timeout" eq "$(att '"\(.state) \(.reason)"')" "failed timeout"
	check "well before the server answers" test $(( $(date +%s) - t0 )) -lt 4
	# With time to spare, curl's own deadline (a quarter of the step's
	# timeout, at most 1 s, before the supervisor's) ends the request.
	run_job slow4
	check "curl's deadline: reason timeout" eq "$(att '"\(.state) \(.reason)"')" "failed timeout"
	check "error names the request" contains "$(att .error)" "GET $URL/delay/10000: timed out after"
	end
}

t_http_redirects() {
	begin "redirects: followed by default, not when disabled, bounded by max_redirects"
	new_env redirects
	http_job follow "url = \"$URL/redirect?to=/json\""
	http_job nofollow "url = \"$URL/redirect?to=/json\"" 'follow_redirects = false'
	http_job see "url = \"$URL/redirect?to=/json\"" 'follow_redirects = false' \
	    'expect_status = 302' 'output_headers = ["Location"]'
	http_job toomany "url = \"$URL/redirect?to=/redirect%3Fto%3D/json\"" \
	    'max_redirects = 1'
	start_daemon || { T_OK=0; end; return; }
	run_job follow
	check "followed to the JSON" eq "$(att '"\(.output.status) \(.output.json.n)"')" "200 42"
	check "url is where it ended" eq "$(att .output.url)" "$URL/json"
	run_job nofollow
	check "not followed: 302 is not 2xx" contains "$(att .error)" "returned status 302"
	run_job see
	check "302 expected: Location in output" eq "$(att '"\(.output.status) \(.output.headers.Location)"')" "302 /json"
	run_job toomany
	check "too many redirects fails" contains "$(att .error)" "redirect"
	check "and is an error" eq "$(att .reason)" error
	end
}

# Every place a secret could leak to, gathered into $D/seen: nfctl's
# views of the run and the job, the daemon's log, the store's files
# (database, WAL).
gather() {
	{ nf logs "$RUN"; nfj run show "$RUN"; nfj runs; nfj job show "$1"
	  cat "$D/daemon.log" "$D"/state/*; } > "$D/seen" 2>/dev/null
}
no_secret() { ! grep -a -q -F -e "$1" "$D/seen"; }

t_http_auth() {
	begin "bearer, basic and OAuth2 sent; no secret in logs, history, store or errors"
	new_env auth
	# Secrets come from the daemon's environment, as in production.
	export NF_T_BEARER=$BEARER NF_T_PASS=$BASIC_PASS NF_T_SECRET=$CLIENT_SECRET
	http_job bearer "url = \"$URL/auth\"" \
	    'auth = { type = "bearer", token = "${NF_T_BEARER}" }'
	http_job basic "url = \"$URL/auth\"" \
	    "auth = { type = \"basic\", username = \"$BASIC_USER\", password = \"\${NF_T_PASS}\" }"
	http_job oauth "url = \"$URL/auth\"" \
	    "auth = { type = \"oauth2\", token_url = \"$URL/token\", client_id = \"nf-client\", client_secret = \"\${NF_T_SECRET}\", scope = \"read\" }"
	http_job oauthbody "url = \"$URL/auth\"" \
	    "auth = { type = \"oauth2\", token_url = \"$URL/token\", client_id = \"nf-client\", client_secret = \"\${NF_T_SECRET}\", client_auth = \"body\" }"
	http_job echo "url = \"$URL/echo\"" \
	    'auth = { type = "bearer", token = "${NF_T_BEARER}" }' \
	    'headers = { X-Api-Key = "${NF_T_PASS}" }'
	http_job wrong "url = \"$URL/auth\"" \
	    "auth = { type = \"oauth2\", token_url = \"$URL/token\", client_id = \"nf-client\", client_secret = \"\${NF_T_PASS}\" }"
	http_job denied "url = \"$URL/auth?token=\${NF_T_BEARER}x\"" \
	    'auth = { type = "bearer", token = "${NF_T_PASS}" }'
	start_daemon || { T_OK=0; end; return; }
	unset NF_T_BEARER NF_T_PASS NF_T_SECRET
	for j in bearer basic oauth oauthbody echo wrong denied; do
		run_job $j
		case $j in
		echo|wrong|denied) ;;
		*) check "$j: accepted by the server" eq "$(att '"\(.state) \(.output.json.ok)"')" "succeeded true" ;;
		esac
		gather $j
		check "$j: bearer token nowhere" no_secret "$BEARER"
		check "$j: password nowhere" no_secret "$BASIC_PASS"
		check "$j: basic credentials nowhere" no_secret "$BASIC_B64"
		check "$j: client secret nowhere" no_secret "$CLIENT_SECRET"
		check "$j: access token nowhere" no_secret "$ACCESS_PREFIX"
		case $j in
		oauth)
			check "oauth2 token fetched in the step" contains \
			    "$(nf logs "$RUN")" "OAuth2 token obtained for client nf-client"
			# The net is cast: the client id (no secret) is seen.
			check "gathered text has the client id" grep -a -q -F nf-client "$D/seen" ;;
		echo)
			check "echoed Authorization is redacted" eq "$(att '.output.json.headers.Authorization')" "Bearer [redacted]"
			check "echoed API key is redacted" eq "$(att '.output.json.headers["X-Api-Key"]')" "[redacted]" ;;
		wrong)
			check "wrong client secret fails" eq "$(att '"\(.state) \(.reason)"')" "failed error"
			check "with the server's OAuth2 error" contains "$(att .error)" "returned status 401: invalid_client" ;;
		denied)
			check "401 fails" contains "$(att .error)" "returned status 401"
			check "URL shown with the secret query value masked" contains "$(att .error)" "$URL/auth?token=***" ;;
		esac
	done
	check "job show prints no credential" eq "$(nfj job show oauth | jq -r '.steps[0].spec.auth.client_secret')" "[redacted]"
	end
}

# Peak resident memory of the running http worker, in kB ("" if none).
worker_hwm() {
	for p in $(pgrep -f "$WORKER"); do
		awk '/^VmHWM/ { print $2 }' "/proc/$p/status" 2>/dev/null
	done | sort -n | tail -1
}

t_http_save_to() {
	begin "50 MB body streamed to save_to: exact size, worker memory bounded, atomic"
	new_env saveto
	n=52428800
	http_job big "url = \"$URL/bytes/$n?pace=30\"" "save_to = \"$D/out/big.bin\""
	http_job bad "url = \"$URL/status/500\"" "save_to = \"$D/out/bad.bin\""
	http_job stopped "url = \"$URL/bytes/$n?pace=500\"" \
	    "save_to = \"$D/out/stopped.bin\"" 'timeout_seconds = 1'
	http_job canceled "url = \"$URL/bytes/$n?pace=500\"" \
	    "save_to = \"$D/out/canceled.bin\""
	mkdir -p "$D/out"
	echo old > "$D/out/bad.bin"
	start_daemon || { T_OK=0; end; return; }
	RUN=$(nfj run big | jq -r .run_id)
	hwm=
	while ! run_done "$RUN"; do
		h=$(worker_hwm)
		[ -n "$h" ] && hwm=$h
		sleep 0.1
	done
	SHOW=$(nfj run show "$RUN")
	check "run succeeded" eq "$(state .state)" succeeded
	check "file has every byte" eq "$(stat -c %s "$D/out/big.bin")" $n
	check "content is the server's" eq "$(head -c 16 "$D/out/big.bin")" 0123456789abcdef
	check "output: saved_to and bytes, no body" eq \
	    "$(att '"\(.output.saved_to) \(.output.bytes) \(.output.body) \(.output.json)"')" \
	    "$D/out/big.bin $n null null"
	diag "worker peak RSS during the download: ${hwm:-not sampled} kB"
	check "worker RSS was sampled" test -n "$hwm"
	check "worker stayed under 32 MB" test "${hwm:-0}" -lt 32768
	check "no temporary file left" eq "$(ls "$D/out" | sort | tr "\n" " ")" "bad.bin big.bin "
	run_job bad
	check "500 fails" eq "$(att .state)" failed
	check "the old file is untouched" eq "$(cat "$D/out/bad.bin")" old
	check "no temporary file left after failure" eq "$(ls "$D/out" | wc -l)" 2
	run_job stopped
	check "a download past its timeout fails" eq "$(att .reason)" timeout
	check "and leaves no file" eq "$(ls "$D/out" | wc -l)" 2
	# Canceled: the worker gets SIGTERM mid-transfer.
	RUN=$(nfj run canceled | jq -r .run_id)
	check "download started" wait_for 5 sh -c "ls '$D/out' | grep -q '^canceled.bin.nf-'"
	check "cancel accepted" nf cancel "$RUN"
	wait_run "$RUN"
	check "run canceled" eq "$(run_state "$RUN")" canceled
	check "the temporary file is removed on SIGTERM" eq "$(ls "$D/out" | wc -l)" 2
	end
}

t_http_cap() {
	begin "max_body_bytes caps a body kept in memory; config checks"
	new_env cap
	http_job small "url = \"$URL/bytes/1000\"" 'max_body_bytes = 1000'
	http_job over "url = \"$URL/bytes/5000\"" 'max_body_bytes = 1000'
	http_job dflt "url = \"$URL/bytes/2000000\""
	start_daemon || { T_OK=0; end; return; }
	run_job small
	check "exactly the cap is fine" eq "$(att '"\(.state) \(.output.bytes)"')" "succeeded 1000"
	run_job over
	check "over the cap fails" eq "$(att '"\(.state) \(.reason)"')" "failed error"
	check "error names the cap and save_to" contains "$(att .error)" "larger than 1000 bytes"
	run_job dflt
	check "default cap is 1 MiB" contains "$(att .error)" "larger than 1048576 bytes"
	stop_daemon
	http_job badcfg 'url = "ftp://x/y"' 'max_body_bytes = 2000000' \
	    'expect_status = ["2xx", "7xx"]' 'save_to = "relative/file"' \
	    'auth = { type = "digest", token = "x" }' 'method = "get"'
	out=$("$NOMAFLOWD" -n -f "$D/nomaflow.toml" 2>&1)
	check "url scheme checked" contains "$out" "badcfg.toml:6:7: job \"badcfg\": step \"h\": url must start with http:// or https://"
	check "cap checked" contains "$out" "max_body_bytes must be between 1 and 1048576"
	check "status checked" contains "$out" "expect_status: each entry is a status"
	check "save_to checked" contains "$out" "save_to must be an absolute path"
	check "auth type checked" contains "$out" "auth.type must be"
	check "method checked" contains "$out" "method \"get\" must be an HTTP method in capitals"
	end
}

t_http_tls() {
	if ! command -v openssl >/dev/null 2>&1; then
		skip "TLS verification on by default" "openssl is not installed (needed to make a test certificate)"
		return
	fi
	begin "TLS: self-signed server refused by default, accepted with ca_file or insecure"
	new_env tls
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=127.0.0.1" \
	    -addext "subjectAltName=IP:127.0.0.1" -keyout "$D/key.pem" \
	    -out "$D/cert.pem" >/dev/null 2>&1
	/usr/bin/python3 "$SERVICES/http_test_server.py" --port 0 \
	    --portfile "$D/tls.port" --tls-cert "$D/cert.pem" \
	    --tls-key "$D/key.pem" > "$D/tls.log" 2>&1 &
	TLS_PID=$!
	wait_for 10 test -s "$D/tls.port"
	TURL=https://127.0.0.1:$(cat "$D/tls.port")
	http_job verify "url = \"$TURL/json\""
	http_job withca "url = \"$TURL/json\"" "ca_file = \"$D/cert.pem\""
	http_job insecure "url = \"$TURL/json\"" 'insecure = true'
	start_daemon || { T_OK=0; end; return; }
	run_job verify
	check "self-signed refused" eq "$(att '"\(.state) \(.reason)"')" "failed error"
	check "error says why" contains "$(att .error)" "certificate"
	run_job withca
	check "accepted with ca_file" eq "$(att '"\(.state) \(.output.json.n)"')" "succeeded 42"
	run_job insecure
	check "accepted with insecure" eq "$(att .state)" succeeded
	check "insecure is warned in the log" contains "$(nf logs "$RUN")" "TLS verification is disabled"
	end
	kill "$TLS_PID" 2>/dev/null
	TLS_PID=
}

t_http_dns() {
	# A name from /etc/hosts (other than localhost, which curl resolves
	# itself) that points at 127.0.0.1 exercises getaddrinfo() in curl's
	# resolver thread under the sandbox.
	name=$(awk '$1 == "127.0.0.1" { for (i = 2; i <= NF; i++)
	    if ($i != "localhost" && $i !~ /^#/) { print $i; exit } }' /etc/hosts)
	if [ -z "$name" ]; then
		skip "name lookup under the sandbox" "/etc/hosts maps no name but localhost to 127.0.0.1"
		return
	fi
	begin "name lookup through the resolver thread under the sandbox ($name)"
	new_env dns
	http_job byname "url = \"$(echo "$URL" | sed "s/127.0.0.1/$name/")/json\""
	http_job nxdomain 'url = "http://nf-no-such-host.invalid/x"' \
	    'timeout_seconds = 10'
	start_daemon || { T_OK=0; end; return; }
	run_job byname
	check "resolved and fetched" eq "$(att '"\(.state) \(.output.json.n)"')" "succeeded 42"
	run_job nxdomain
	check "unknown host is an error, not a sandbox kill" eq "$(att .reason)" error
	check "error names the host" contains "$(att .error)" "nf-no-such-host.invalid"
	end
}

ALL="t_http_json t_http_post t_http_status t_http_timeout t_http_redirects
t_http_auth t_http_save_to t_http_cap t_http_tls t_http_dns"
for t in ${*:-$ALL}; do
	$t
done
echo "1..$T_NUM"
