#!/bin/sh
# retryon.sh: which failures are retried (retry-on= in corun-jobs(5),
# --retry-on in corun(1)): exit statuses, timeouts, signals, attempts that
# could not start, HTTP statuses from a server on 127.0.0.1, Retry-After
# and its cap, a job's list over the run's, the plan, and bad lists. Told
# apart by the records' attempts, status, exit, signal, http_status and
# elapsed.

# shellcheck source=tests/lib.sh
. "$SRCDIR/tests/lib.sh"

# The test HTTP server (lib.sh).
start_httpd 60
U="http://127.0.0.1:$HTTPD_PORT"
# A port nobody listens on: bound, then closed.
CLOSED=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
C="$BUILDDIR/examples/plugins/crash.so"

# Every job may retry twice, 10 ms apart: only its retry-on= decides.
cat >r.jobs <<EOF
id=all sh 'exit 4'
id=e3 retry-on=exit:3 sh 'exit 3'
id=e4 retry-on=exit:3 sh 'exit 4'
id=erange retry-on=exit:2-5 sh 'exit 4'
id=elist retry-on=exit:1,exit:4,timeout sh 'exit 4'
id=to timeout=0.2 retry-on=timeout sleep 10
id=tono timeout=0.2 retry-on=exit:0-255,signal,start exec sleep 10
id=exto retry-on=timeout,signal sh 'exit 1'
id=sig retry-on=signal sh 'kill -9 \$\$'
id=signo retry-on=exit:0-255,timeout sh 'kill -9 \$\$'
id=wsig retry-on=signal call $C segv
id=wsigno retry-on=exit:0-255,start call $C segv
id=st retry-on=start exec ./no-such-program-xyz
id=stno retry-on=exit:0-255,signal,timeout exec ./no-such-program-xyz
id=shmiss retry-on=start sh 'no-such-program-xyz'
id=tcpst retry-on=start tcp 127.0.0.1:$CLOSED
id=httpst retry-on=start http http://127.0.0.1:$CLOSED/
id=h404st retry-on=start http $U/status/404
id=h404 retry-on=http:5xx http $U/status/404
id=h503 retry-on=http:5xx http $U/status/503
id=h429 retry-on=http:429 http $U/status/429
id=h429no retry-on=http:5xx,http:400-428 http $U/status/429
id=h4xx retry-on=http:4xx http $U/status/404
EOF
wall r.wall corun --json -r 2 --backoff 10ms r.jobs >r.json 2>r.err </dev/null
is "$?" 1 "failed jobs: exit status 1"
is "$(nlines r.json)" 23 "one record per job"
lt "$(cat r.wall)" "$(bound 10 19)" "no job runs its 10 s"

jrec r.json all status='"failed"' exit=4 attempts=3 \
	"no retry-on: every failure is retried (retries=2)"
jrec r.json e3 status='"failed"' exit=3 attempts=3 "exit:3 retries exit 3"
jrec r.json e4 status='"failed"' exit=4 attempts=1 \
	"exit:3 does not retry exit 4"
jrec r.json erange exit=4 attempts=3 "exit:2-5 retries exit 4"
jrec r.json elist exit=4 attempts=3 "a list: any word that matches retries"
jrec r.json to status='"timeout"' attempts=3 "timeout retries a timeout"
jrec r.json tono status='"timeout"' signal=15 attempts=1 \
	"a timeout is not exit, signal or start (corun's SIGTERM is not signal)"
jrec r.json exto status='"failed"' exit=1 attempts=1 \
	"timeout,signal do not retry exit 1"
jrec r.json sig status='"failed"' signal=9 attempts=3 \
	"signal retries a child that killed itself"
jrec r.json signo status='"failed"' signal=9 exit=null attempts=1 \
	"exit:0-255 does not retry a child killed by a signal"
jrec r.json wsig status='"failed"' executor='"process"' signal=11 attempts=3 \
	"signal retries a worker that died of SIGSEGV"
jrec r.json wsigno signal=11 attempts=1 \
	"a worker's death is not exit or start"
jrec r.json st status='"failed"' attempts=3 \
	error='"exec: ./no-such-program-xyz: No such file or directory"' \
	"start retries an exec of a missing program"
jrec r.json stno status='"failed"' exit=null attempts=1 \
	"a missing program is not exit, signal or timeout"
jrec r.json shmiss status='"failed"' exit=127 attempts=1 \
	"sh with a missing command started: exit 127, not start"
jrec r.json tcpst status='"failed"' attempts=3 \
	"start retries a refused tcp connection"
jrec r.json httpst status='"failed"' attempts=3 \
	"start retries an http connection refused before its request"
jrec r.json h404st http_status=404 attempts=1 \
	"an http response is not start"
jrec r.json h404 status='"failed"' http_status=404 attempts=1 \
	"http:5xx does not retry a 404"
jrec r.json h503 status='"failed"' http_status=503 attempts=3 \
	"http:5xx retries a 503"
jrec r.json h429 http_status=429 attempts=3 "http:429 retries a 429"
jrec r.json h429no http_status=429 attempts=1 \
	"http:5xx,http:400-428 do not retry a 429"
jrec r.json h4xx http_status=404 attempts=3 "http:4xx retries a 404"

# --retry-on is every job's list; a job's retry-on= replaces it.
cat >d.jobs <<'EOF'
id=d3 sh 'exit 3'
id=d4 sh 'exit 4'
id=o4 retry-on=exit:4 sh 'exit 4'
id=o3 retry-on=exit:4 sh 'exit 3'
EOF
corun --json -r 2 --backoff 10ms --retry-on exit:3 --joblog d.log d.jobs \
	>d.json 2>d.err </dev/null
is "$?" 1 "--retry-on: exit status 1"
is "$(grep -c "sh 'exit [34]' retry-on=exit:4" d.log)" 2 \
	"the job log's command keeps retry-on="
jrec d.json d3 exit=3 attempts=3 "--retry-on exit:3 retries exit 3"
jrec d.json d4 exit=4 attempts=1 "--retry-on exit:3 does not retry exit 4"
jrec d.json o4 exit=4 attempts=3 "a job's retry-on=exit:4 retries exit 4"
jrec d.json o3 exit=3 attempts=1 \
	"a job's retry-on= replaces --retry-on (exit 3 not retried)"

# Retry-After (429 and 503 only): at least that long before the retry,
# capped by the backoff's maximum. Elapsed counts from the first start.
cat >ra.jobs <<EOF
id=ra retries=1 backoff=10ms:20s http $U/status/503?after=2
id=rad retries=1 backoff=10ms:20s http $U/status/429?date=3
id=racap retries=1 backoff=10ms:0.5s http $U/status/503?after=30
id=ra500 retries=1 backoff=10ms:20s http $U/status/500?after=30
EOF
wall ra.wall corun --json ra.jobs >ra.json 2>ra.err </dev/null
is "$?" 1 "Retry-After: exit status 1"
jrec ra.json ra http_status=503 attempts=2 "a 503 with Retry-After: retried"
check "Retry-After: 2 waits 2 s or more before the retry" \
	num_lt 1.99 "$(jget ra.json ra elapsed)"
lt "$(jget ra.json ra elapsed)" "$(scaled 8)" \
	"Retry-After: 2 does not wait much longer (hang detector)"
jrec ra.json rad http_status=429 attempts=2 "a 429 with an HTTP-date: retried"
check "Retry-After as an HTTP-date 3 s ahead waits 2 s or more" \
	num_lt 1.99 "$(jget ra.json rad elapsed)"
jrec ra.json racap http_status=503 attempts=2 "Retry-After: 30 is capped"
check "Retry-After past the backoff's maximum waits the maximum (0.5 s)" \
	num_lt 0.49 "$(jget ra.json racap elapsed)"
lt "$(jget ra.json racap elapsed)" "$(bound 10 29)" \
	"Retry-After: 30 with backoff=10ms:0.5s: not 30 s"
lt "$(jget ra.json ra500 elapsed)" "$(bound 5 29)" \
	"a 500's Retry-After is not waited for"
lt "$(cat ra.wall)" "$(bound 15 29)" "the run ends without the 30 s waits"

# The plan prints retry-on= and reads back; --retry-on stays the run's.
printf 'id=p retry-on=exit:3-5,http:5xx,timeout exec true\nid=q exec true\n' \
	>plan.jobs
corun -n --retry-on start plan.jobs >plan.out 2>plan.err </dev/null
is "$?" 0 "-n with retry-on=: exit status 0"
is "$(cat plan.out)" "p loop exec true retry-on=exit:3-5,http:5xx,timeout
q loop exec true" "the plan shows a job's retry-on= as written"

# Bad lists: FILE:LINE for a job line, a usage error for --retry-on.
printf 'exec true\nretry-on=exit:3,oops exec true\nretry-on=http:6xx sh x\n' \
	>bad.jobs
corun --json bad.jobs >bad.out 2>bad.err </dev/null
is "$?" 2 "a bad retry-on=: exit status 2"
is "$(cat bad.out)" "" "a bad retry-on=: nothing runs"
is "$(cat bad.err)" "bad.jobs:2: bad retry-on word 'oops'
bad.jobs:3: bad retry-on word 'http:6xx'" "a bad retry-on= names FILE:LINE and the word"
for list in '' oops 'exit:256' 'timeout,' 'http:5XX'; do
	corun --retry-on "$list" d.jobs >usage.out 2>usage.err </dev/null
	rc=$?
	is "$rc:$(head -n 1 usage.err)" "2:corun: --retry-on: bad list '$list'" \
		"--retry-on '$list': usage error"
done
is "$(cat usage.out)" "" "a bad --retry-on: nothing runs"

# libcorun: struct corun_options' retry_on, checked by corun_new and
# corun_run, and jobs' retry-on= under a runner.
cat >api.c <<'EOF2'
#include <errno.h>
#include <stdio.h>

#include <corun.h>

int
main(void)
{
	struct corun_options o;
	struct corun *r;
	struct corun_future *f[2];
	char err[128];

	setvbuf(stdout, NULL, _IONBF, 0);
	corun_options_init(&o);
	o.retry_on = "exit:1,oops";
	errno = 0;
	r = corun_new(&o);
	printf("bad: %s %s\n", r == NULL ? "NULL" : "runner",
	       errno == EINVAL ? "EINVAL" : "?");
	printf("run bad: %d\n", corun_run(&o, NULL, 0));
	printf("parse: %d %d\n", corun_parse_retry_on("http:5xx,start"),
	       corun_parse_retry_on("http:6xx"));
	o.retry_on = "exit:3";
	o.retries = 2;
	o.backoff = 0.001;
	r = corun_new(&o);
	if (r == NULL)
		return 1;
	f[0] = corun_submit(r, "exec false", err, sizeof err);
	f[1] = corun_submit(r, "retry-on=exit:1 exec false", err, sizeof err);
	corun_gather(r, f, 2);
	printf("attempts: %d %d\n", corun_future_attempts(f[0]),
	       corun_future_attempts(f[1]));
	corun_future_free(f[0]);
	corun_future_free(f[1]);
	corun_free(r);
	return 0;
}
EOF2
so=$BUILDDIR/.libs/libcorun.so
# shellcheck disable=SC2086
${EMBED_CC:-cc} -std=c11 -I"$SRCDIR/include" -o api api.c \
	-L"$(dirname "$so")" -lcorun >cc.log 2>&1
ok $? "a program with retry_on builds against libcorun.so" ||
	diag "$(cat cc.log)"
out=$(LD_LIBRARY_PATH=$(dirname "$so") timeout "$(scaled 20)" ./api 2>&1)
is "$out" "bad: NULL EINVAL
corun: --retry-on: bad retry-on word 'oops'
run bad: 2
parse: 0 -1
attempts: 1 3" "libcorun: retry_on checked, the default for jobs, retry-on= wins"

corun --help >help.out 2>&1 </dev/null
check "--help lists --retry-on" grep -qE -- '^ +--retry-on LIST ' help.out

no_leftovers "no process left behind"
done_testing
