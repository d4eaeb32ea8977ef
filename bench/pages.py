"""Measures the web UI pages and the mail tester's closed loop of a release `sealpost serve --demo`.

Prints, per page, the mean, median and 95th percentile latency over sequential requests on one
keep-alive connection, and each as a multiple of GET /health measured in turn with that page's
requests on the same connection, against the goal of 10x; then the milliseconds from a test
mailing's submission to its readable report. Every page of the UI is measured: the lists (first page, next page, a search
and a state filter that look at every message), each kind of detail page, the forms and the
account pages.
"""

import http.client
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse


def start(binary, directory):
    node = subprocess.Popen(
        [binary, "serve", "--demo", "--listen", "127.0.0.1:0"],
        cwd=directory, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        env={"SEALPOST_LOG": "warn", "PATH": "/usr/bin:/bin"},
    )
    facts = {}
    for line in node.stdout:
        if line.startswith("sealpost listening on http://"):
            facts["http"] = line.split("http://")[1].strip()
        match = re.search(r"sign in as (\S+), password (\w+)\)", line)
        if match:
            facts["email"], facts["password"] = match.groups()
        match = re.search(r"API key: (\S+)", line)
        if match:
            facts["key"] = match.group(1)
        if "/api/v1/checker/reports" in line:
            break
    return node, facts


def request(connection, method, path, headers=None, body=None):
    connection.request(method, path, body=body, headers=headers or {})
    response = connection.getresponse()
    data = response.read()
    return response.status, response.getheader("Set-Cookie") or "", data


def sign_in(connection, facts):
    _, cookie, _ = request(connection, "GET", "/login")
    login = re.search(r"sp_login=([^;]+)", cookie).group(1)
    form = urllib.parse.urlencode(
        {"csrf": login, "email": facts["email"], "password": facts["password"]})
    status, cookie, _ = request(connection, "POST", "/login", {
        "Cookie": f"sp_login={login}", "Content-Type": "application/x-www-form-urlencoded"}, form)
    assert status == 303, status
    return re.search(r"sp_session=([^;]+)", cookie).group(1)


def timed(connection, path, headers, count):
    """The page's latencies and, taken in turn with them, GET /health's: each page has its own
    floor measured under the same conditions, so that the machine's state (idle cores waking
    slowly, a warm or cold cache) weighs on both sides of the ratio alike."""
    samples, floor = [], []
    for _ in range(count):
        for target, into, extra in (("/health", floor, {}), (path, samples, headers)):
            started = time.perf_counter()
            status, _, _ = request(connection, "GET", target, extra)
            into.append((time.perf_counter() - started) * 1000)
            assert status == 200, (target, status)
    return summary(samples), summary(floor)


def summary(samples):
    samples = sorted(samples)
    return statistics.mean(samples), samples[len(samples) // 2], samples[int(len(samples) * 0.95) - 1]


def ui_pages(connection, session, api):
    """Every page of the UI and the API's lists, with the ids the detail pages need."""
    _, _, data = request(connection, "GET", "/api/v1/messages?limit=1", api)
    message = json.loads(data)[0]["id"]
    status, headers, _ = request_with_headers(connection, "GET", "/api/v1/messages?limit=50", api)
    cursor = headers.get("x-next-cursor", "")
    assert cursor, "the list of messages has a second page"
    _, _, data = request(connection, "GET", "/api/v1/signing-domains", api)
    domain = json.loads(data)[0]["id"]
    _, _, data = request(connection, "GET", "/api/v1/mailings?limit=1", api)
    mailings = json.loads(data)
    pages = [
        ("UI dashboard", "/t/demo", session),
        ("UI messages (first 50)", "/t/demo/messages", session),
        ("UI messages (next page)", f"/t/demo/messages?cursor={cursor}", session),
        ("UI messages (search, all rows)", "/t/demo/messages?q=report%20999", session),
        ("UI messages (state filter)", "/t/demo/messages?state=sent", session),
        ("UI message (source, DKIM check)", f"/t/demo/messages/{message}", session),
        ("UI mailings", "/t/demo/mailings", session),
        ("UI contacts", "/t/demo/contacts", session),
        ("UI signing domains", "/t/demo/domains", session),
        ("UI signing domain (DNS records)", f"/t/demo/domains/{domain}", session),
        ("UI sending domains", "/t/demo/sending-domains", session),
        ("UI e-mail settings", "/t/demo/settings/email", session),
        ("UI troubleshooting (live DNS)", "/t/demo/troubleshoot", session),
        ("UI mail tester reports", "/t/demo/checker", session),
        ("UI API keys", "/t/demo/api-keys", session),
        ("UI password", "/account/password", session),
        ("API messages (first 50)", "/api/v1/messages", api),
        ("API messages (search, all rows)", "/api/v1/messages?q=report%20999", api),
    ]
    if mailings:
        pages.insert(7, ("UI mailing", f"/t/demo/mailings/{mailings[0]['id']}", session))
    return pages


def request_with_headers(connection, method, path, headers=None):
    connection.request(method, path, headers=headers or {})
    response = connection.getresponse()
    data = response.read()
    # Header names are case-insensitive; the server writes them in lower case.
    return response.status, {name.lower(): value for name, value in response.getheaders()}, data


def drain(connection, api, timeout=600):
    """Waits until no message is queued or being delivered, so that the pages are measured on
    a resting server rather than beside the delivery of the messages just submitted; returns
    the seconds waited."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        busy = 0
        for state in ("queued", "sending"):
            _, headers, _ = request_with_headers(
                connection, "GET", f"/api/v1/messages?limit=1&state={state}", api)
            busy += int(headers.get("x-total-count", "0"))
        if busy == 0:
            return time.perf_counter() - started
        time.sleep(0.2)
    raise SystemExit("the queue was not delivered within the timeout")


def main():
    binary, messages, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    with tempfile.TemporaryDirectory() as directory:
        node, facts = start(binary, directory)
        try:
            connection = http.client.HTTPConnection(facts["http"])
            api = {"Authorization": f"Bearer {facts['key']}", "Content-Type": "application/json"}
            body = "".join(f"Line {n} of a long report that the message carries.\r\n"
                           for n in range(2000))
            for number in range(messages):
                raw = (f"From: hello@client.example\r\nTo: someone@client.example\r\n"
                       f"Subject: Report {number}\r\n\r\n{body}")
                status, _, _ = request(connection, "POST", "/api/v1/messages/raw", api, json.dumps(
                    {"mail_from": "hello@client.example", "recipients": ["someone@client.example"],
                     "raw": raw}))
                assert status == 202, status
            waited = drain(connection, api)
            print(f"queue delivered in {waited:.1f} s after the last submission")
            session = {"Cookie": f"sp_session={sign_in(connection, facts)}"}
            print(f"{messages} messages of {len(body) // 1024} KB in the queue; {count} requests each")
            floor, _ = timed(connection, "/health", {}, count)
            print(f"{'GET /health (floor)':38} mean {floor[0]:6.2f} ms  p50 {floor[1]:6.2f}  p95 {floor[2]:6.2f}")
            pages = ui_pages(connection, session, api)
            worst = 0.0
            for label, path, headers in pages:
                (mean, p50, p95), own_floor = timed(connection, path, headers, count)
                worst = max(worst, mean / own_floor[0])
                print(f"{label:38} mean {mean:6.2f} ms  p50 {p50:6.2f}  p95 {p95:6.2f}"
                      f"  ({mean / own_floor[0]:.1f}x its floor of {own_floor[0]:.2f} ms)")
            print(f"slowest page: {worst:.1f}x the floor (goal: within 10x):"
                  f" {'met' if worst <= 10 else 'NOT met'}")
            loops = []
            for _ in range(10):
                started = time.perf_counter()
                status, _, data = request(connection, "POST", "/api/v1/checker/test-mailings", api,
                                          json.dumps({"sender": "hello@client.example"}))
                assert status == 202, status
                token = json.loads(data)["token"]
                while True:
                    _, _, data = request(connection, "GET", f"/api/v1/checker/reports?token={token}", api)
                    if json.loads(data):
                        break
                    time.sleep(0.005)
                loops.append(time.perf_counter() - started)
            print(f"closed loop (submit to readable report, 10 runs): mean"
                  f" {statistics.mean(loops) * 1000:.1f} ms, min {min(loops) * 1000:.1f} ms,"
                  f" max {max(loops) * 1000:.1f} ms")
        finally:
            node.terminate()
            node.wait()


if __name__ == "__main__":
    main()
