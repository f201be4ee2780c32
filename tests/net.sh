#!/bin/sh
# net.sh: the http and tcp kinds against servers on 127.0.0.1 only:
# statuses, bodies, methods and headers, redirects, timeouts, refused and
# reset connections, connection reuse, many requests at once, and the
# parse-time checks of their arguments.

# shellcheck source=tests/lib.sh
. "$SRCDIR/tests/lib.sh"

# The test HTTP server (lib.sh).
start_httpd 60
PORT=$HTTPD_PORT
FULL=$HTTPD_FULL
U="http://127.0.0.1:$PORT"
# A port nobody listens on: bound, then closed.
CLOSED=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')

cat >net.jobs <<EOF
id=s200 http $U/status/200
id=name http http://localhost:$PORT/status/200
id=s404 http $U/status/404
id=s500 http $U/status/500
id=s204 http $U/status/204
id=body http $U/body?n=1000
id=big http $U/body?n=1100000
id=put http -X PUT -H 'X-Corun: yes' -H 'Accept: text/plain' -d 'a=1&b=2' $U/echo
id=post http -d hello $U/echo
id=head http -X HEAD $U/status/200
id=redir http $U/redirect
id=follow http -L $U/redirect
id=slow timeout=0.3 http $U/slow?s=10
id=refused http http://127.0.0.1:$CLOSED/
id=reset http $U/reset
id=retry retries=2 backoff=10ms http $U/status/503
id=tcp tcp 127.0.0.1:$PORT
id=tcpname tcp localhost:$PORT
id=tcprefused tcp 127.0.0.1:$CLOSED
id=tcpfull timeout=0.3 tcp 127.0.0.1:$FULL
id=tcp6 tcp [::1]:$CLOSED
EOF
wall net.wall corun --json net.jobs >net.json 2>net.err
is "$?" 1 "exit status 1: some jobs fail"
is "$(nlines net.json)" 21 "one record per job"
is "$(cat net.err)" "" "nothing on stderr"
lt "$(cat net.wall)" "$(bound 5 9)" "the run ends soon after the 0.3s timeouts"

jrec net.json s200 status='"ok"' executor='"loop"' kind='"http"' \
	value='"status 200\n"' http_status=200 error=null stderr=null \
	exit=null "200: ok, the body is the value, http_status 200"
jrec net.json name status='"ok"' http_status=200 "a host name is resolved"
jrec net.json s404 status='"failed"' value=null http_status=404 \
	error='"HTTP status 404"' "404: failed with the status"
jrec net.json s500 status='"failed"' http_status=500 \
	error='"HTTP status 500"' "500: failed with the status"
jrec net.json s204 status='"ok"' value='""' http_status=204 \
	"204: ok with an empty value"
is "$(jpy net.json 'len(by["body"]["value"])')" 1000 \
	"the value is the whole body"
jrec net.json big status='"ok"' truncated=true http_status=200 \
	"a body past 1 MiB is truncated"
is "$(jpy net.json 'len(by["big"]["value"])')" 1048576 \
	"the value is cut at 1 MiB"
put=$(jpy net.json 'by["put"]["value"]')
contains "$put" "PUT /echo" "-X sets the method"
contains "$put" "X-Corun: yes" "-H adds a header"
contains "$put" "Accept: text/plain" "-H sets a header curl would send"
is "$(printf '%s\n' "$put" | grep -c '^Accept:')" 1 \
	"-H replaces the default, not adds to it"
like "$put" '^a=1&b=2$' "-d sends the body"
contains "$(jpy net.json 'by["post"]["value"]')" "POST /echo" \
	"-d alone makes a POST"
jrec net.json head status='"ok"' value='""' http_status=200 \
	"-X HEAD: ok, no body awaited"
jrec net.json redir status='"ok"' http_status=302 \
	value='"redirecting\n"' "a redirect is not followed without -L"
jrec net.json follow status='"ok"' http_status=200 \
	value='"status 200\n"' "-L follows the redirect"
jrec net.json slow status='"timeout"' error='"timed out after 0.3s"' \
	signal=null "a slow server: timeout"
lt "$(jget net.json slow elapsed)" "$(bound 2 9)" \
	"the timed-out transfer ends at once"
jrec net.json refused status='"failed"' value=null "closed port: failed"
like "$(jget net.json refused error)" "Failed to connect|Couldn't connect" \
	"closed port: curl's message"
is "$(jpy net.json '"http_status" in by["refused"]')" false \
	"no http_status without a response"
jrec net.json reset status='"failed"' "a reset connection: failed"
like "$(jget net.json reset error)" "[Rr]eset|Recv failure|Empty reply" \
	"a reset connection: curl's message"
jrec net.json retry status='"failed"' attempts=3 http_status=503 \
	"retries apply to http"
like "$(jget net.json tcp value)" '^"[0-9]+\.[0-9]{6}"$' \
	"tcp: the value is the connect time in seconds"
jrec net.json tcp status='"ok"' executor='"loop"' kind='"tcp"' \
	"tcp: ok on the loop"
is "$(jpy net.json 'list(by["s200"])[-2:]')" '["elapsed", "http_status"]' \
	"http_status comes right after elapsed"
is "$(jpy net.json '[r["id"] for r in R if "http_status" in r and
	r["kind"] != "http"]')" "[]" "no http_status on other kinds"
jrec net.json tcpname status='"ok"' "tcp: a name is resolved"
jrec net.json tcprefused status='"failed"' \
	error="\"tcp: 127.0.0.1:$CLOSED: Connection refused\"" \
	"tcp: a closed port is refused"
jrec net.json tcpfull status='"timeout"' "tcp: a connect that hangs times out"
jrec net.json tcp6 status='"failed"' "tcp: an IPv6 address in brackets"
schema=$("$PY" "$JQ" schema net.json |
	grep -v '^big: truncated set on a job that is not exec/sh$')
is "$schema" "" "the records follow the record rules"

# Text mode: the first line of the body, or the error.
printf 'id=a http %s/status/200\nid=b http %s/status/404\n' "$U" "$U" |
	corun -k >text.out 2>&1
like "$(sed -n 1p text.out)" '^ok a [0-9.]+s http: status 200$' \
	"text: ok line shows the body's first line"
like "$(sed -n 2p text.out)" '^failed b [0-9.]+s http: HTTP status 404$' \
	"text: failed line shows the status"

# Connection reuse: jobs one after the other share one connection.
cat >reuse.jobs <<EOF
id=p1 http $U/peer
id=p2 after=p1 http $U/peer
id=p3 after=p2 http $U/peer
EOF
corun --json reuse.jobs >reuse.json 2>&1
is "$(jpy reuse.json 'len({r["value"] for r in R})')" 1 \
	"sequential jobs reuse the connection"

# Many at once: 200 requests that each take 0.5s end together.
i=0
while [ $i -lt 200 ]; do
	echo "http $U/slow?s=0.5"
	i=$((i + 1))
done >many.jobs
wall many.wall corun --json many.jobs >many.json 2>&1
is "$?" 0 "200 concurrent requests: exit 0"
is "$(jpy many.json 'sum(r["status"] == "ok" for r in R)')" 200 \
	"200 concurrent requests: all ok"
lt "$(cat many.wall)" "$(bound 8 60)" "200 requests of 0.5s run concurrently (100s in turn)"

# Cancel stops a transfer at once.
printf 'id=long http %s/slow?s=10\nid=c cancel long\n' "$U" >cancel.jobs
wall cancel.wall corun --json cancel.jobs >cancel.json 2>&1
jrec cancel.json long status='"cancelled"' "cancel stops a transfer"
lt "$(cat cancel.wall)" "$(bound 3 9)" "a cancelled transfer does not wait for the server"

# Parse-time checks: a bad line rejects the file.
cat >bad.jobs <<'EOF'
http ftp://127.0.0.1/
http -Z http://127.0.0.1/
http -H nocolon http://127.0.0.1/
http -X 'BAD METHOD' http://127.0.0.1/
http -X
http http://127.0.0.1/ http://127.0.0.1/
http -X GET
http not-a-url
tcp 127.0.0.1
tcp ::1:80
tcp 127.0.0.1:0
tcp 127.0.0.1:65536
tcp [::1:80
tcp [nope]:80
tcp :80
EOF
corun -n bad.jobs >bad.out 2>bad.err
is "$?" 2 "bad http/tcp arguments: exit 2"
is "$(nlines bad.err)" 15 "one message per bad line"
contains "$(cat bad.err)" "bad.jobs:1: http: URL must be http or https" \
	"http: only http and https URLs"
contains "$(cat bad.err)" "bad.jobs:2: http: unknown option '-Z'" \
	"http: unknown option"
contains "$(cat bad.err)" "bad.jobs:3: http: bad header 'nocolon'" \
	"http: a header needs NAME: VALUE"
contains "$(cat bad.err)" "bad.jobs:4: http: bad method 'BAD METHOD'" \
	"http: a method is one token"
contains "$(cat bad.err)" "bad.jobs:5: http: -X needs a value" \
	"http: an option without its value"
contains "$(cat bad.err)" "bad.jobs:7: http: missing URL" \
	"http: a URL is needed"
contains "$(cat bad.err)" "bad.jobs:8: http: bad URL 'not-a-url'" \
	"http: a URL must parse"
contains "$(cat bad.err)" "bad.jobs:9: tcp: expected HOST:PORT" \
	"tcp: HOST:PORT"
contains "$(cat bad.err)" "bad.jobs:10: tcp: an IPv6 address goes in brackets" \
	"tcp: IPv6 needs brackets"
contains "$(cat bad.err)" "bad.jobs:11: tcp: bad port" "tcp: port 0"
contains "$(cat bad.err)" "bad.jobs:12: tcp: bad port" "tcp: port 65536"
contains "$(cat bad.err)" "bad.jobs:14: tcp: bad IPv6 address" \
	"tcp: a bracketed host is an IPv6 address"

cat >good.jobs <<'EOF'
http -L -X POST -H 'A: b' -d x https://127.0.0.1:8443/p?q=1
tcp [::1]:80
tcp localhost:8080
EOF
corun -n good.jobs >good.out 2>&1
is "$?" 0 "good http/tcp lines parse"
like "$(sed -n 1p good.out)" "^1 loop http -L -X POST -H 'A: b' -d x " \
	"dry run prints the http arguments"
corun -n "$SRCDIR/examples/net.jobs" >/dev/null 2>&1
is "$?" 0 "examples/net.jobs parses"

exec 3>&-
no_leftovers "nothing left running"
done_testing
