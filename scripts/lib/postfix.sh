# The pieces shared by Sealpost's private Postfix instances (Debian's package): the receiving
# server of the delivery tests (crates/service/tests/interop/postfix.sh) and the relay of the
# benchmark's reference (bench/postfix-relay.sh). Sourced by both, so what keeps an instance
# private (its own directory, loopback only, no DNS, no mail anywhere else) is written once.
# Everything lives under one DIRECTORY: the configuration (DIRECTORY/etc), the queue, the data
# directory and the log (DIRECTORY/maillog). The system's own instance (/etc/postfix) is neither
# used nor touched.

PATH="/usr/sbin:/usr/bin:/sbin:/bin:$PATH"

# Refuses to go on without Postfix or without root (Postfix starts as root and drops
# privileges); $1 names the calling script in the messages.
postfix_require() {
    if ! command -v postfix >/dev/null; then
        echo "$1: Postfix is missing; run ./scripts/test, which installs Debian's postfix" >&2
        exit 1
    fi
    if [ "$(id -u)" != 0 ]; then
        echo "$1: Postfix starts as root; run as root" >&2
        exit 1
    fi
}

# Makes the instance's directories and an empty log. Postfix's own processes (the postfix user)
# must be able to reach the queue, so the directory must be traversable.
postfix_prepare() {
    chmod 755 "$1"
    mkdir -p "$1/etc" "$1/queue"
    : >"$1/maillog"
}

# The main.cf lines every instance has, for DIRECTORY $1: its own queue, data and log, loopback
# IPv4 only, no local delivery, and nothing that would query DNS or rewrite headers.
postfix_main_common() {
    cat <<MAIN
compatibility_level = 3.6
queue_directory = $1/queue
data_directory = $1/data
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
# Log to a file the caller shows when something fails (needs the postlog service in master.cf).
maillog_file = $1/maillog
maillog_file_prefixes = $1
# Nothing leaves the machine, not even a DNS query; headers stay as received.
smtpd_peername_lookup = no
smtp_host_lookup = native
lmtp_host_lookup = native
smtp_dns_support_level = disabled
local_header_rewrite_clients =
append_dot_mydomain = no
biff = no
alias_maps =
alias_database =
local_recipient_maps =
MAIN
}

# master.cf: smtpd on 127.0.0.1:$1 and the services every instance needs, then each further
# argument as one more service line (the delivery agents the instance uses).
postfix_master_cf() {
    port="$1"
    shift
    cat <<MASTER
# service               type  private unpriv chroot wakeup maxproc command
127.0.0.1:$port         inet  n       -      n      -      -       smtpd
pickup                  unix  n       -      n      60     1       pickup
cleanup                 unix  n       -      n      -      0       cleanup
qmgr                    unix  n       -      n      300    1       qmgr
rewrite                 unix  -       -      n      -      -       trivial-rewrite
bounce                  unix  -       -      n      -      0       bounce
defer                   unix  -       -      n      -      0       bounce
trace                   unix  -       -      n      -      0       bounce
verify                  unix  -       -      n      -      1       verify
flush                   unix  n       -      n      1000?  0       flush
proxymap                unix  -       -      n      -      -       proxymap
showq                   unix  n       -      n      -      -       showq
error                   unix  -       -      n      -      -       error
retry                   unix  -       -      n      -      -       error
discard                 unix  -       -      n      -      -       discard
anvil                   unix  -       -      n      -      1       anvil
scache                  unix  -       -      n      -      1       scache
postlog                 unix-dgram n  -      n      -      1       postlogd
MASTER
    for service in "$@"; do
        echo "$service"
    done
}

# Starts the instance in DIRECTORY $1 once its main.cf and master.cf are written. Postfix rereads
# a configuration file until its modification time is over a second old, to avoid reading one
# that is being edited; backdating the new files saves those seconds.
postfix_start() {
    touch -d '1 minute ago' "$1/etc/main.cf" "$1/etc/master.cf"
    postfix -c "$1/etc" start
}

# Waits until process $1 has exited (or is a zombie nobody reaps yet); $2 names it.
wait_exit() {
    for _ in $(seq 200); do
        kill -0 "$1" 2>/dev/null || return 0
        grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null && return 0
        sleep 0.05
    done
    echo "$2 $1 did not exit" >&2
    return 1
}

# Stops the instance in DIRECTORY $1 and waits until its master process has exited.
postfix_stop() {
    [ -d "$1/etc" ] || return 0
    pid="$(cat "$1/queue/pid/master.pid" 2>/dev/null | tr -d ' ' || true)"
    postfix -c "$1/etc" stop 2>/dev/null || true
    [ -z "$pid" ] || wait_exit "$pid" "postfix master"
}
