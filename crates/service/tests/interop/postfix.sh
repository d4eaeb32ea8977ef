#!/bin/sh
# A private Postfix instance (Debian's package) as a real receiving server for Sealpost's delivery
# tests, built on scripts/lib/postfix.sh. Everything lives under DIRECTORY, with the mailboxes in
# DIRECTORY/mail/<user>/ (Maildir). It listens on 127.0.0.1:PORT only, accepts mail for
# ok@receiver.test (a virtual mailbox; other users there get 550 5.1.1, but for
# gone@receiver.test, which is accepted and then fails in delivery), refuses to relay for
# any other domain (554 5.7.1) and never sends mail anywhere: every non-local transport is
# error(8). Must run as root.
#
#   postfix.sh start DIRECTORY PORT [BOUNCE_PORT]
#                                     writes the configuration and starts the instance; returns
#                                     once it accepts connections. With BOUNCE_PORT it also
#                                     fails the delivery of gone@receiver.test after accepting
#                                     it (5.1.1), sending the DSN for mail from bounces.client.test
#                                     to 127.0.0.1:BOUNCE_PORT, as to that domain's MX
#   postfix.sh stop DIRECTORY         stops it and waits until its master process has exited
set -eu
umask 022

. "$(cd "$(dirname "$0")" && pwd)/../../../../scripts/lib/postfix.sh"
postfix_require postfix.sh
command="$1"
directory="$(cd "$2" && pwd)"

case "$command" in
start)
    port="$3"
    bounce_port="${4:-}"
    # The delivery agent writes the mailboxes as this unprivileged user.
    uid="$(id -u nobody)"
    gid="$(id -g nobody)"
    postfix_prepare "$directory"
    mkdir -p "$directory/mail"
    chown "$uid:$gid" "$directory/mail"
    chmod 700 "$directory/mail"
    {
        postfix_main_common "$directory"
        cat <<MAIN
myhostname = mx.receiver.test
mydomain = receiver.test
myorigin = receiver.test
# The receiving domain: virtual mailboxes in Maildir form under $directory/mail.
virtual_mailbox_domains = receiver.test
virtual_mailbox_base = $directory/mail
virtual_mailbox_maps = inline:{ ok@receiver.test=ok/, gone@receiver.test=gone/ }
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
smtpd_banner = \$myhostname ESMTP Postfix (sealpost test)
MAIN
        if [ -n "$bounce_port" ]; then
            cat <<BOUNCES
# gone@receiver.test is accepted at RCPT and then fails in delivery (its transport exits with
# EX_NOUSER), as a mailbox removed after the receiver said 250 does; the DSN goes to the return
# path's MX, here Sealpost's inbound listener.
transport_maps = inline:{ gone@receiver.test=gone:, bounces.client.test=smtp:[127.0.0.1]:$bounce_port }
BOUNCES
        else
            echo "transport_maps = inline:{ gone@receiver.test=gone: }"
        fi
    } >"$directory/etc/main.cf"
    postfix_master_cf "$port" \
        "virtual                 unix  -       n      n      -      -       virtual" \
        "smtp                    unix  -       -      n      -      -       smtp" \
        "gone                    unix  -       n      n      -      -       pipe flags= user=nobody argv=/bin/sh -c { exit 67 }" \
        >"$directory/etc/master.cf"
    postfix_start "$directory"
    ;;
stop)
    postfix_stop "$directory"
    ;;
*)
    echo "usage: $0 start DIRECTORY PORT | stop DIRECTORY" >&2
    exit 2
    ;;
esac
