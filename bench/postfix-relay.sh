#!/bin/sh
# The reference for bench/run: a private Postfix instance (Debian's package) relaying everything it
# receives from loopback to one next hop, optionally with the OpenDKIM milter signing it. Derived
# from crates/service/tests/interop/postfix.sh. Everything lives under DIRECTORY: Postfix's
# configuration (DIRECTORY/etc), its queue (durable, as Postfix always keeps it), its data and log
# (DIRECTORY/maillog), and OpenDKIM's configuration, key, socket and log (DIRECTORY/opendkim).
# Postfix listens on 127.0.0.1:PORT only, accepts mail for any domain from 127.0.0.0/8 only and
# relays all of it to [127.0.0.1]:NEXT_HOP_PORT; it makes no DNS query and sends nothing anywhere
# else. OpenDKIM signs mail from client.test with selector "workplace" and a 2048-bit RSA key
# (crates/vault/resources/keys/rsa2048-pkcs1.pem), relaxed/simple. The system's own instances
# (/etc/postfix, /etc/opendkim.conf) are neither used nor touched. Must run as root.
#
#   postfix-relay.sh start DIRECTORY PORT NEXT_HOP_PORT [dkim|plain]
#                                  writes the configuration, starts OpenDKIM (dkim, the default)
#                                  and Postfix; returns once OpenDKIM listens (Postfix may
#                                  take a moment longer to accept connections)
#   postfix-relay.sh stop DIRECTORY
#                                  stops Postfix and OpenDKIM and waits until they have exited
set -eu
umask 022

PATH="/usr/sbin:/usr/bin:/sbin:/bin:$PATH"
here="$(cd "$(dirname "$0")" && pwd)"
command="$1"
directory="$(cd "$2" && pwd)"
config="$directory/etc"
milter="$directory/opendkim"

# Waits until process $1 has exited (or is a zombie nobody reaps yet); $2 names it.
wait_exit() {
    for _ in $(seq 200); do
        kill -0 "$1" 2>/dev/null || return 0
        grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null && return 0
        sleep 0.05
    done
    echo "postfix-relay.sh: $2 $1 did not exit" >&2
    return 1
}

case "$command" in
start)
    port="$3"
    next_hop="$4"
    mode="${5:-dkim}"
    for program in postfix opendkim; do
        if ! command -v "$program" >/dev/null; then
            echo "postfix-relay.sh: $program is missing (apt-get install postfix opendkim)" >&2
            exit 1
        fi
    done
    if [ "$(id -u)" != 0 ]; then
        echo "postfix-relay.sh: Postfix starts as root; run as root" >&2
        exit 1
    fi
    # Postfix's own processes (the postfix user) must reach the queue and the milter's socket.
    chmod 755 "$directory"
    mkdir -p "$config" "$directory/queue"
    : >"$directory/maillog"

    milters=
    if [ "$mode" = dkim ]; then
        mkdir -p "$milter"
        chmod 755 "$milter"
        cp "$here/../crates/vault/resources/keys/rsa2048-pkcs1.pem" "$milter/key.pem"
        chmod 600 "$milter/key.pem"
        # Runs as root (no UserID): it reads the key as root; the socket is made world-writable
        # (UMask 000) so that smtpd, running as postfix, can connect to it.
        cat >"$milter/opendkim.conf" <<CONF
Mode                    s
Domain                  client.test
Selector                workplace
KeyFile                 $milter/key.pem
Canonicalization        relaxed/simple
Socket                  local:$milter/opendkim.sock
PidFile                 $milter/opendkim.pid
UMask                   000
Syslog                  no
RequireSafeKeys         no
InternalHosts           127.0.0.0/8
CONF
        opendkim -x "$milter/opendkim.conf" -f </dev/null >"$milter/opendkim.log" 2>&1 &
        echo $! >"$milter/process.pid"
        for _ in $(seq 200); do
            [ -S "$milter/opendkim.sock" ] && break
            if ! kill -0 "$(cat "$milter/process.pid")" 2>/dev/null; then
                echo "postfix-relay.sh: opendkim exited:" >&2
                cat "$milter/opendkim.log" >&2
                exit 1
            fi
            sleep 0.05
        done
        if [ ! -S "$milter/opendkim.sock" ]; then
            echo "postfix-relay.sh: opendkim did not create its socket" >&2
            exit 1
        fi
        milters="unix:$milter/opendkim.sock"
    elif [ "$mode" != plain ]; then
        echo "postfix-relay.sh: mode must be dkim or plain, not $mode" >&2
        exit 2
    fi

    cat >"$config/main.cf" <<MAIN
compatibility_level = 3.6
queue_directory = $directory/queue
data_directory = $directory/data
myhostname = relay.client.test
mydomain = client.test
myorigin = client.test
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
maillog_file = $directory/maillog
maillog_file_prefixes = $directory
# Relay anything from loopback, nothing for anyone else; everything goes to the one next hop.
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
smtpd_recipient_restrictions =
relayhost = [127.0.0.1]:$next_hop
# Nothing leaves the machine, not even a DNS query.
smtpd_peername_lookup = no
smtp_host_lookup = native
lmtp_host_lookup = native
smtp_dns_support_level = disabled
disable_dns_lookups = yes
local_header_rewrite_clients =
append_dot_mydomain = no
biff = no
alias_maps =
alias_database =
local_recipient_maps =
# The OpenDKIM milter (empty: none); if it cannot be reached, mail is refused with 4xx.
smtpd_milters = $milters
non_smtpd_milters =
milter_default_action = tempfail
smtpd_banner = \$myhostname ESMTP Postfix (sealpost bench)
MAIN

    cat >"$config/master.cf" <<MASTER
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
smtp                    unix  -       -      n      -      -       smtp
relay                   unix  -       -      n      -      -       smtp
anvil                   unix  -       -      n      -      1       anvil
scache                  unix  -       -      n      -      1       scache
postlog                 unix-dgram n  -      n      -      1       postlogd
MASTER

    # Postfix rereads a configuration file until its modification time is over a second old;
    # backdating the new files saves those seconds.
    touch -d '1 minute ago' "$config/main.cf" "$config/master.cf"
    # The caller waits until 127.0.0.1:PORT accepts connections (the master opens it shortly).
    postfix -c "$config" start
    ;;
stop)
    status=0
    if [ -d "$config" ]; then
        pid="$(cat "$directory/queue/pid/master.pid" 2>/dev/null | tr -d ' ' || true)"
        postfix -c "$config" stop 2>/dev/null || true
        if [ -n "$pid" ]; then
            wait_exit "$pid" "postfix master" || status=1
        fi
    fi
    if [ -f "$milter/process.pid" ]; then
        pid="$(cat "$milter/process.pid")"
        kill "$pid" 2>/dev/null || true
        wait_exit "$pid" opendkim || { kill -9 "$pid" 2>/dev/null || true; status=1; }
        rm -f "$milter/process.pid"
    fi
    exit "$status"
    ;;
*)
    echo "usage: $0 start DIRECTORY PORT NEXT_HOP_PORT [dkim|plain] | stop DIRECTORY" >&2
    exit 2
    ;;
esac
