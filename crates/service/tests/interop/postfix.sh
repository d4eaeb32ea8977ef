#!/bin/sh
# A private Postfix instance (Debian's package) as a real receiving server for Sealpost's delivery
# tests. Everything lives under DIRECTORY: the configuration (DIRECTORY/etc), the queue, the data
# directory, the log (DIRECTORY/maillog) and the mailboxes (DIRECTORY/mail/<user>/, Maildir). It
# listens on 127.0.0.1:PORT only, accepts mail for ok@receiver.test (a virtual mailbox; other
# users there get 550 5.1.1), refuses to relay for any other domain (554 5.7.1) and never sends
# mail anywhere: every non-local transport is error(8). The system's own instance (/etc/postfix)
# is neither used nor touched. Must run as root (Postfix starts as root and drops privileges).
#
#   postfix.sh start DIRECTORY PORT   writes the configuration and starts the instance; returns
#                                     once it accepts connections
#   postfix.sh stop DIRECTORY         stops it and waits until its master process has exited
set -eu
umask 022

PATH="/usr/sbin:/usr/bin:/sbin:/bin:$PATH"
if ! command -v postfix >/dev/null; then
    echo "postfix.sh: Postfix is missing; run ./scripts/test, which installs Debian's postfix" >&2
    exit 1
fi
if [ "$(id -u)" != 0 ]; then
    echo "postfix.sh: Postfix starts as root; run the tests as root" >&2
    exit 1
fi
command="$1"
directory="$(cd "$2" && pwd)"
config="$directory/etc"

case "$command" in
start)
    port="$3"
    # The delivery agent writes the mailboxes as this unprivileged user; Postfix's own processes
    # (the postfix user) must be able to reach the queue, so the directory must be traversable.
    uid="$(id -u nobody)"
    gid="$(id -g nobody)"
    chmod 755 "$directory"
    mkdir -p "$config" "$directory/mail" "$directory/queue"
    chown "$uid:$gid" "$directory/mail"
    chmod 700 "$directory/mail"
    : >"$directory/maillog"

    cat >"$config/main.cf" <<MAIN
compatibility_level = 3.6
queue_directory = $directory/queue
data_directory = $directory/data
myhostname = mx.receiver.test
mydomain = receiver.test
myorigin = receiver.test
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
# Log to a file the test shows when something fails (needs the postlog service in master.cf).
maillog_file = $directory/maillog
maillog_file_prefixes = $directory
# The receiving domain: virtual mailboxes in Maildir form under $directory/mail.
virtual_mailbox_domains = receiver.test
virtual_mailbox_base = $directory/mail
virtual_mailbox_maps = inline:{ ok@receiver.test=ok/ }
virtual_uid_maps = static:$uid
virtual_gid_maps = static:$gid
virtual_transport = virtual
# Accept mail for receiver.test from anyone, relay for no one (554 5.7.1 Relay access denied),
# not even for loopback (no permit_mynetworks); and never send anything out: the default and
# relay transports are error(8).
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = reject_unauth_destination
smtpd_recipient_restrictions =
relay_domains =
default_transport = error:this test instance sends no mail
relay_transport = error:this test instance sends no mail
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
smtpd_banner = \$myhostname ESMTP Postfix (sealpost test)
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
virtual                 unix  -       n      n      -      -       virtual
anvil                   unix  -       -      n      -      1       anvil
scache                  unix  -       -      n      -      1       scache
postlog                 unix-dgram n  -      n      -      1       postlogd
MASTER

    # Postfix rereads a configuration file until its modification time is over a second old,
    # to avoid reading one that is being edited; backdating the new files saves those seconds.
    touch -d '1 minute ago' "$config/main.cf" "$config/master.cf"
    postfix -c "$config" start
    ;;
stop)
    pid="$(cat "$directory/queue/pid/master.pid" 2>/dev/null | tr -d ' ' || true)"
    postfix -c "$config" stop || true
    if [ -n "$pid" ]; then
        # Once the master has exited it may stay a zombie until init reaps it; that is gone too.
        for _ in $(seq 200); do
            kill -0 "$pid" 2>/dev/null || exit 0
            grep -q '^State:[[:space:]]*Z' "/proc/$pid/status" 2>/dev/null && exit 0
            sleep 0.05
        done
        echo "postfix master $pid did not exit" >&2
        exit 1
    fi
    ;;
*)
    echo "usage: $0 start DIRECTORY PORT | stop DIRECTORY" >&2
    exit 2
    ;;
esac
