# remote-lib.sh: what the root-only remote worker tests share (sourced
# after lib.sh, POSIX sh): a throwaway sshd, a throwaway user, throwaway
# keys and a copy of the built corun that user can run.
#
# Remote workers: how the tests set up sshd, netns and Slurm.
# Nothing is installed and nothing outside the test's own files is kept:
#  - The user: a fresh account (rt + random digits) with password field
#    `*` (sshd with `UsePAM no` refuses a locked `!` account, and `*` lets
#    no password in), shell /bin/sh, home in the test's directory. It is
#    removed at the end, after every process it still owns is killed.
#  - The keys: a host key and a client key made with ssh-keygen for this
#    run only; the client key is the user's only authorized key.
#  - sshd: /usr/sbin/sshd -D -e with its own sshd_config (key-only,
#    `UsePAM no`, `StrictModes no` since the files live under /tmp, its
#    own pid file, listening on one address: 127.0.0.1 on a free port, or
#    an address inside a network namespace), killed at the end.
#  - ssh: an ssh_config given with -F (the port, the key, BatchMode, no
#    host key checks, no known_hosts file), so nothing is ever asked and
#    ~/.ssh is never read. Several Host aliases name the same sshd: each
#    alias is one "host" for corun -S.
#  - corun: the build's binary, copied with any library of the build tree
#    it needs to the test directory (made traversable, 0711), so the user
#    can run it wherever the build tree is (make distcheck's is not
#    readable by others). Its path holds the test directory, so the
#    remote workers and their jobs are found by no_leftovers too.
# tests/remote_ssh.sh and tests/remote_netns.sh use it; tests/slurm.sh
# (make check-slurm) uses the user-less parts (remote_stage_corun).
#
# Every set-up step registers its undoing with remote_on_exit; the undo
# steps run in reverse order on every exit path, before lib.sh's cleanup.

remote_undo=

# Print "1..0 # SKIP REASON" and end the test file (nothing was tested).
remote_skip() {
	printf '1..0 # SKIP %s\n' "$*"
	exit 0
}

# Register a shell command to run when the test ends (last in, first run).
remote_on_exit() {
	remote_undo="$1
$remote_undo"
}

# Run the registered undo steps, then lib.sh's cleanup.
remote_cleanup() {
	ru_steps=$remote_undo
	remote_undo=
	printf '%s\n' "$ru_steps" | while IFS= read -r ru_cmd; do
		[ -n "$ru_cmd" ] && eval "$ru_cmd" >/dev/null 2>&1
	done
	lib_cleanup
}
trap remote_cleanup EXIT

# How long a remote job sleeps when nothing stops it (seconds), and the
# cap of every wait for such jobs to be gone: far below it, so a job that
# was not stopped can never pass for one that was, however loaded the
# machine (TIME_SCALE) is.
# shellcheck disable=SC2034 # used by the tests
REMOTE_SLEEP=900
REMOTE_CAP=300

# Print how many polls 0.05 s apart make SECS seconds scaled, but no more
# than REMOTE_CAP: the bound of a wait for remote jobs to be gone.
remote_ticks() {
	awk -v s="$(bound "$1" "$REMOTE_CAP")" 'BEGIN { printf "%d\n", s * 20 }'
}

# Stop the daemon PID: TERM, then KILL if it still runs 2 s later.
remote_stop() {
	kill "$1" 2>/dev/null
	rs_i=0
	while kill -0 "$1" 2>/dev/null && [ $rs_i -lt 40 ]; do
		sleep 0.05
		rs_i=$((rs_i + 1))
	done
	kill -9 "$1" 2>/dev/null
}

# Skip the test unless it runs as root with the commands named present.
remote_require() {
	[ "$(id -u)" = 0 ] || remote_skip "needs root (a user, sshd, netns)"
	for rr_cmd in "$@"; do
		command -v "$rr_cmd" >/dev/null 2>&1 ||
			[ -x "$rr_cmd" ] ||
			remote_skip "needs root and $rr_cmd (not found)"
	done
}

# Copy the built corun to DIR (readable by all) as DIR/corun; set RCORUN.
# src/corun may be a libtool wrapper script: then the real binary is in
# .libs, and the build tree's libraries go to DIR/lib with a wrapper that
# points LD_LIBRARY_PATH there.
remote_stage_corun() {
	mkdir -p "$1" || bail "cannot make $1"
	chmod 755 "$1"
	# shellcheck disable=SC2153 # CORUN comes from lib.sh
	if [ "$(head -c 2 "$CORUN")" = "#!" ]; then
		rs_dir=$(dirname "$CORUN")/.libs
		rs_bin=$rs_dir/lt-corun
		[ -x "$rs_bin" ] || rs_bin=$rs_dir/corun
		[ -x "$rs_bin" ] || bail "no binary behind the wrapper $CORUN"
		mkdir -p "$1/lib" && chmod 755 "$1/lib"
		cp "$rs_bin" "$1/corun.bin" || bail "cannot copy $rs_bin"
		find "$BUILDDIR" -path '*/.libs/*.so*' -exec cp -P {} "$1/lib" \;
		cat >"$1/corun" <<EOF
#!/bin/sh
LD_LIBRARY_PATH='$1/lib'\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}
export LD_LIBRARY_PATH
exec '$1/corun.bin' "\$@"
EOF
	else
		cp "$CORUN" "$1/corun" || bail "cannot copy $CORUN"
	fi
	chmod -R a+rX "$1" && chmod 755 "$1/corun"
	# shellcheck disable=SC2034 # used by the tests
	RCORUN=$1/corun
}

# Print a TCP port of 127.0.0.1 that is free now.
remote_free_port() {
	"$PY" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# Create the test user with home HOME (password `*`, shell /bin/sh); set
# RUSER. Registers the killing of its processes and its removal.
remote_user() {
	RUSER=rt$(od -An -N4 -tu4 /dev/urandom | tr -d ' ' | cut -c1-8)
	useradd -M -d "$1" -s /bin/sh -p '*' "$RUSER" >useradd.log 2>&1 ||
		remote_skip "cannot create a user: $(head -n 1 useradd.log)"
	remote_on_exit "userdel $RUSER"
	remote_on_exit "remote_kill_user $RUSER"
	mkdir -p "$1" && chown "$RUSER" "$1" && chmod 755 "$1"
}

# Kill (KILL) every process of USER, by pid, until none is left (bounded).
remote_kill_user() {
	rk_i=0
	while [ $rk_i -lt 50 ]; do
		rk_pids=$(pgrep -u "$1") || return 0
		# shellcheck disable=SC2086 # a list of pids
		kill -9 $rk_pids 2>/dev/null
		sleep 0.05
		rk_i=$((rk_i + 1))
	done
}

# Pids (one line, sorted) of the processes of the test user whose command
# line contains the string.
remote_user_procs() {
	pgrep -u "$RUSER" -f -- "$1" | sort -n | tr '\n' ' ' | sed 's/ $//'
}

# Wait up to 15 s (scaled) until at least N processes of the test user
# have the string in their command line: remote_wait_procs STRING N.
remote_wait_procs() {
	rwp_i=0
	rwp_max=$(ticks 15)
	while [ "$(remote_user_procs "$1" | wc -w)" -lt "$2" ] &&
		[ $rwp_i -lt "$rwp_max" ]; do
		sleep 0.05
		rwp_i=$((rwp_i + 1))
	done
}

# Run ssh with the ssh_config of remote_ssh_config (in $T/ssh), bounded
# to SECS (scaled) seconds: remote_within SECS HOST COMMAND.
remote_within() {
	rw_secs=$(scaled "$1")
	shift
	timeout -k 3 "$rw_secs" ssh -F "$T/ssh/ssh_config" "$@"
}

# Make the keys in DIR: the host key (DIR/host_key), the client key
# (DIR/id) and its public half as the user's only authorized key
# (DIR/authorized_keys).
remote_keys() {
	mkdir -p "$1" || bail "cannot make $1"
	ssh-keygen -q -t ed25519 -N '' -C corun-test-host \
		-f "$1/host_key" >/dev/null 2>&1 || bail "ssh-keygen failed"
	ssh-keygen -q -t ed25519 -N '' -C corun-test-client \
		-f "$1/id" >/dev/null 2>&1 || bail "ssh-keygen failed"
	cp "$1/id.pub" "$1/authorized_keys"
	chmod 644 "$1/authorized_keys" "$1/host_key.pub"
	chmod 600 "$1/host_key" "$1/id"
}

# Start a throwaway sshd: remote_sshd DIR ADDRESS PORT [NETNS]: its
# config, pid file and log in DIR, the keys of remote_keys DIR, listening
# on ADDRESS:PORT (inside the network namespace NETNS if given), for the
# test user only. Waits (bounded) until it listens; sets SSHD_PID.
remote_sshd() {
	cat >"$1/sshd_config" <<EOF
ListenAddress $2
Port $3
HostKey $1/host_key
PidFile $1/sshd.pid
AuthorizedKeysFile $1/authorized_keys
AllowUsers $RUSER
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin no
StrictModes no
UseDNS no
X11Forwarding no
AllowTcpForwarding no
PrintMotd no
PrintLastLog no
LogLevel VERBOSE
EOF
	# sshd wants its privilege separation directory (Debian: /run/sshd).
	if [ ! -d /run/sshd ]; then
		mkdir -p /run/sshd && chmod 755 /run/sshd
		remote_on_exit "rmdir /run/sshd"
	fi
	/usr/sbin/sshd -t -f "$1/sshd_config" >"$1/sshd.check" 2>&1 ||
		remote_skip "sshd refuses its config: $(head -n 1 "$1/sshd.check")"
	if [ -n "${4:-}" ]; then
		ip netns exec "$4" /usr/sbin/sshd -D -e -f "$1/sshd_config" \
			</dev/null >/dev/null 2>"$1/sshd.log" &
	else
		/usr/sbin/sshd -D -e -f "$1/sshd_config" </dev/null \
			>/dev/null 2>"$1/sshd.log" &
	fi
	SSHD_PID=$!
	bg_track $SSHD_PID
	remote_on_exit "kill -9 $SSHD_PID"
	rs_i=0
	rs_max=$(ticks 10)
	until grep -q 'Server listening' "$1/sshd.log"; do
		kill -0 $SSHD_PID 2>/dev/null ||
			remote_skip "sshd did not start: $(tail -n 1 "$1/sshd.log")"
		[ $rs_i -ge "$rs_max" ] &&
			remote_skip "sshd did not listen within $(scaled 10) s"
		sleep 0.05
		rs_i=$((rs_i + 1))
	done
}

# Write DIR/ssh_config: each HOST alias (after the first three arguments)
# is ADDRESS:PORT as the test user with the key of remote_keys DIR.
remote_ssh_config() {
	rc_dir=$1
	rc_addr=$2
	rc_port=$3
	shift 3
	cat >"$rc_dir/ssh_config" <<EOF
Host $*
	HostName $rc_addr
	Port $rc_port
	User $RUSER
	IdentityFile $rc_dir/id
	IdentitiesOnly yes
	IdentityAgent none
	BatchMode yes
	StrictHostKeyChecking no
	UserKnownHostsFile /dev/null
	GlobalKnownHostsFile /dev/null
	CheckHostIP no
	ControlMaster no
	ControlPath none
	ConnectTimeout 10
	LogLevel ERROR
EOF
	chmod 644 "$rc_dir/ssh_config"
}
