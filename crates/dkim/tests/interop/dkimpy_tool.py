#!/usr/bin/env python3
"""dkimpy as an independent DKIM peer for Sealpost's tests.

Signs or verifies the message on standard input. Keys are looked up over real DNS, at the
name server given with --nameserver HOST:PORT (the tests' own server on loopback).

  dkimpy_tool.py sign --key KEY.pem --domain D --selector S [--canon relaxed/simple]
                      [--length] [--identity I] [--algorithm rsa-sha256] < message > signed
  dkimpy_tool.py verify --nameserver 127.0.0.1:5353 < message
      prints one line per signature ("pass d=... s=..." or "fail d=... s=... reason");
      exits 0 when every signature verifies, 1 otherwise.
"""
import argparse
import sys

import dkim
import dns.resolver


def dns_function(nameserver):
    host, port = nameserver.rsplit(":", 1)
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = [host]
    resolver.port = int(port)
    resolver.lifetime = 5

    def lookup(name, timeout=5):
        if isinstance(name, bytes):
            name = name.decode("ascii")
        try:
            answer = resolver.resolve(name, "TXT")
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return None
        return b"".join(answer[0].strings)

    return lookup


def sign(arguments, message):
    with open(arguments.key, "rb") as key_file:
        key = key_file.read()
    header, body = arguments.canon.split("/")
    signature = dkim.sign(
        message,
        arguments.selector.encode(),
        arguments.domain.encode(),
        key,
        identity=arguments.identity.encode() if arguments.identity else None,
        canonicalize=(header.encode(), body.encode()),
        signature_algorithm=arguments.algorithm.encode(),
        length=arguments.length,
    )
    sys.stdout.buffer.write(signature + message)
    return 0


def verify(arguments, message):
    lookup = dns_function(arguments.nameserver)
    checker = dkim.DKIM(message, minkey=1024)
    count = len([line for line in checker.headers if line[0].lower() == b"dkim-signature"])
    if count == 0:
        print("none")
        return 1
    all_pass = True
    for index in range(count):
        try:
            passed = checker.verify(idx=index, dnsfunc=lookup)
            reason = ""
        except dkim.DKIMException as error:
            passed = False
            reason = str(error)
        tags = checker.signature_fields
        domain = tags.get(b"d", b"?").decode()
        selector = tags.get(b"s", b"?").decode()
        print(f"{'pass' if passed else 'fail'} d={domain} s={selector} {reason}".rstrip())
        all_pass = all_pass and passed
    return 0 if all_pass else 1


def main():
    parser = argparse.ArgumentParser()
    commands = parser.add_subparsers(dest="command", required=True)
    signing = commands.add_parser("sign")
    signing.add_argument("--key", required=True)
    signing.add_argument("--domain", required=True)
    signing.add_argument("--selector", required=True)
    signing.add_argument("--canon", default="relaxed/simple")
    signing.add_argument("--algorithm", default="rsa-sha256")
    signing.add_argument("--identity")
    signing.add_argument("--length", action="store_true")
    verifying = commands.add_parser("verify")
    verifying.add_argument("--nameserver", required=True)
    arguments = parser.parse_args()
    message = sys.stdin.buffer.read()
    if arguments.command == "sign":
        return sign(arguments, message)
    return verify(arguments, message)


if __name__ == "__main__":
    sys.exit(main())
