#!/usr/bin/env python3
"""A receiving SMTP server for Sealpost's delivery tests, built on aiosmtpd (an independent SMTP
implementation from PyPI). It listens on 127.0.0.1:PORT and writes each message it accepts, byte
for byte as received, to DIRECTORY/<n>.eml with the envelope in DIRECTORY/<n>.json.

Recipients whose local part starts with "reject" get 550, with "later" get 451, so tests can see
per-recipient outcomes. It prints "ready" once it accepts connections and stops when its standard
input closes.

  sink.py DIRECTORY PORT
"""
import asyncio
import json
import os
import sys

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, directory):
        self.directory = directory
        self.count = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@", 1)[0]
        if local.startswith("reject"):
            return "550 5.1.1 no such user here"
        if local.startswith("later"):
            return "451 4.7.1 greylisted, try again later"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        base = os.path.join(self.directory, str(self.count))
        with open(base + ".eml", "wb") as message:
            message.write(envelope.original_content or envelope.content)
        with open(base + ".json", "w") as meta:
            json.dump({"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos}, meta)
        return "250 2.0.0 stored as " + str(self.count)


def main():
    directory, port = sys.argv[1], int(sys.argv[2])
    controller = Controller(Sink(directory), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    sys.stdin.read()
    controller.stop()


if __name__ == "__main__":
    main()
