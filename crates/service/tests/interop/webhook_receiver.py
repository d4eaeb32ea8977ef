"""A webhook receiver for Sealpost's tests: an HTTP server on 127.0.0.1:PORT that verifies every
request with the `standardwebhooks` package from PyPI (an implementation independent of
Sealpost) against each of SECRETS (comma-separated), and appends one JSON line per request to
LOG: the webhook-id, whether each secret verified it, the event, and when it arrived (Unix
seconds, for latency). It answers 500 to the
first FAIL_FIRST requests (an outage), 401 when no secret verifies, and 204 otherwise.
Prints "ready" once it listens.

The package refuses a webhook-timestamp more than 5 minutes from its clock. Tests move
Sealpost's clock instead of sleeping, so the receiver's clock follows: CLOCK_FILE holds the
seconds the test clock is ahead, and the package's "now" adds them. Signatures are checked by
the package as published.

    webhook_receiver.py LOG PORT SECRETS FAIL_FIRST CLOCK_FILE
"""

import json
import sys
import time
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import standardwebhooks.webhooks as package
from standardwebhooks.webhooks import Webhook

log_path = sys.argv[1]
port = int(sys.argv[2])
hooks = [Webhook(secret) for secret in sys.argv[3].split(",")]
fail_first = int(sys.argv[4])
clock_file = sys.argv[5]
seen = 0


def offset():
    try:
        with open(clock_file) as file:
            return int(file.read().strip() or "0")
    except FileNotFoundError:
        return 0


class TestClockDatetime(datetime):
    @classmethod
    def now(cls, tz=None):
        return datetime.now(tz) + timedelta(seconds=offset())


package.datetime = TestClockDatetime


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        global seen
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        seen += 1
        if seen <= fail_first:
            self.send_response(500)
            self.end_headers()
            self.wfile.write(b"not now")
            return
        headers = {name.lower(): value for name, value in self.headers.items()}
        verified = []
        for hook in hooks:
            try:
                hook.verify(body, headers)
                verified.append(True)
            except Exception:
                verified.append(False)
        with open(log_path, "a") as log:
            log.write(
                json.dumps(
                    {
                        "id": headers.get("webhook-id"),
                        "verified": verified,
                        "event": json.loads(body),
                        "received_at": time.time(),
                    }
                )
                + "\n"
            )
        self.send_response(204 if any(verified) else 401)
        self.end_headers()

    def log_message(self, *arguments):
        pass


server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
print("ready", flush=True)
server.serve_forever()
