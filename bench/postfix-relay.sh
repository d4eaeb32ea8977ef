#!/bin/sh
# The reference for bench/run: a private Postfix instance (Debian's package) relaying everything it
# receives from loopback to one next hop, optionally with the OpenDKIM milter signing it, built on
# scripts/lib/postfix.sh like the delivery tests' instance. Everything lives under DIRECTORY: Postfix's
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

here="$(cd "$(dirname "$0")" && pwd)"
. "$here/../scripts/lib/postfix.sh"
command="$1"
directory="$(cd "$2" && pwd)"
milter="$directory/opendkim"

case "$command" in
start)
    port="$3"
    next_hop="$4"
    mode="${5:-dkim}"
    postfix_require postfix-relay.sh
    if ! command -v opendkim >/dev/null; then
        echo "postfix-relay.sh: opendkim is missing (apt-get install opendkim)" >&2
        exit 1
    fi
    postfix_prepare "$directory"

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

    {
        postfix_main_common "$directory"
        cat <<MAIN
myhostname = relay.client.test
mydomain = client.test
myorigin = client.test
# Relay anything from loopback, nothing for anyone else; everything goes to the one next hop.
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
smtpd_recipient_restrictions =
relayhost = [127.0.0.1]:$next_hop
disable_dns_lookups = yes
# The OpenDKIM milter (empty: none); if it cannot be reached, mail is refused with 4xx.
smtpd_milters = $milters
non_smtpd_milters =
milter_default_action = tempfail
smtpd_banner = \$myhostname ESMTP Postfix (sealpost bench)
MAIN
    } >"$directory/etc/main.cf"
    postfix_master_cf "$port" \
        "smtp                    unix  -       -      n      -      -       smtp" \
        "relay                   unix  -       -      n      -      -       smtp" \
        >"$directory/etc/master.cf"
    # The caller waits until 127.0.0.1:PORT accepts connections (the master opens it shortly).
    postfix_start "$directory"
    ;;
stop)
    status=0
    postfix_stop "$directory" || status=1
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
