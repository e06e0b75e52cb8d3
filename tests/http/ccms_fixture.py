#!/usr/bin/env python3
"""A stand-in for an external cc-metric-store that replays recorded v2 answers.

    ccms_fixture.py --data tests/data/ccms --token TOKEN --port-file FILE [--port N]

It serves GET /api/query?version=v2 as cc-metric-store does (COMPAT d.3, i):
  * Authorization must be "Bearer TOKEN", else 401 (the body says why);
  * the JSON body must have the v2 shape: cluster (string), from < to
    (integers), with-stats and with-data (booleans), queries (a non-empty
    list of {metric, host, type?, type-ids?, resolution, aggreg}); anything
    else is 400 with {"error": ...};
  * every query must be one of the recorded queries of its metric
    (DATA/<metric>.json: {"queries": [...], "response": {"results": [...]}},
    one request per metric); the answer holds the recorded result of each
    query, in the order asked, without "data" when with-data is false.
Every request, and every mismatch, is counted: GET /stats answers
{"requests": n, "queries": n, "by_metric": {...}, "errors": [...],
"last_body": {...}}.
POST /control {"delay": seconds, "status": code} makes later queries wait
before answering, or answer with that HTTP status (0 = normal), so that a
test can kill the archiver midway or make it fail.

The listening port is written to --port-file once the server accepts.
"""

import argparse
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

QUERY_KEYS = {"metric", "host", "type", "type-ids", "subtype", "subtype-ids", "resolution", "aggreg", "scale-by"}
BODY_KEYS = {"cluster", "from", "to", "with-stats", "with-data", "with-padding", "queries", "for-all-nodes"}


class State:
    def __init__(self, data_dir, token):
        self.token = token
        self.recorded = {}
        for fn in sorted(os.listdir(data_dir)):
            if not fn.endswith(".json"):
                continue
            with open(os.path.join(data_dir, fn)) as f:
                d = json.load(f)
            if isinstance(d, dict) and "queries" in d and "response" in d:
                self.recorded[fn[:-5]] = d
        self.lock = threading.Lock()
        self.requests = 0
        self.queries = 0
        self.by_metric = {}
        self.errors = []
        self.last_body = None
        self.delay = 0.0
        self.status = 0


def shape_error(body):
    """None if body has the v2 request shape, else why not."""
    if not isinstance(body, dict):
        return "expected a JSON object"
    unknown = set(body) - BODY_KEYS
    if unknown:
        return "unknown keys %s" % sorted(unknown)
    if not isinstance(body.get("cluster"), str) or not body["cluster"]:
        return "cluster: expected a non-empty string"
    for k in ("from", "to"):
        if not isinstance(body.get(k), int) or isinstance(body.get(k), bool):
            return "%s: expected an integer" % k
    if body["from"] >= body["to"]:
        return "from must be before to"
    for k in ("with-stats", "with-data"):
        if not isinstance(body.get(k), bool):
            return "%s: expected a boolean" % k
    qs = body.get("queries")
    if not isinstance(qs, list) or not qs:
        return "queries: expected a non-empty list"
    for i, q in enumerate(qs):
        if not isinstance(q, dict) or set(q) - QUERY_KEYS:
            return "queries[%d]: unexpected shape %r" % (i, q)
        if not isinstance(q.get("metric"), str) or not isinstance(q.get("host"), str):
            return "queries[%d]: metric and host must be strings" % i
        if not isinstance(q.get("resolution"), int) or q["resolution"] < 1:
            return "queries[%d]: resolution must be a positive integer" % i
        if not isinstance(q.get("aggreg"), bool):
            return "queries[%d]: aggreg must be a boolean" % i
        if ("type" in q) != ("type-ids" in q):
            return "queries[%d]: type and type-ids go together" % i
        if "type-ids" in q and (not isinstance(q["type-ids"], list) or
                                not all(isinstance(x, str) for x in q["type-ids"])):
            return "queries[%d]: type-ids must be a list of strings" % i
    if len({q["metric"] for q in qs}) != 1:
        return "expected one metric per request"
    return None


def make_handler(st):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):
            sys.stderr.write("ccms_fixture: " + (fmt % args) + "\n")

        def reply(self, code, obj):
            data = json.dumps(obj).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def body(self):
            n = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(n) if n else b""

        def fail(self, code, why):
            with st.lock:
                st.errors.append(why)
            self.reply(code, {"error": why})

        def do_GET(self):
            raw = self.body()
            if self.path == "/stats":
                with st.lock:
                    self.reply(200, {"requests": st.requests, "queries": st.queries, "by_metric": st.by_metric,
                                     "errors": st.errors, "last_body": st.last_body})
                return
            if self.path != "/api/query?version=v2":
                return self.fail(404, "no such path: %s" % self.path)
            with st.lock:
                st.requests += 1
                delay, status = st.delay, st.status
            auth = self.headers.get("Authorization", "")
            if auth != "Bearer " + st.token:
                # not a test failure by itself: the wrong-token test wants this answer
                return self.reply(401, {"error": "unauthorized: invalid or missing bearer token"})
            try:
                body = json.loads(raw)
            except ValueError as e:
                return self.fail(400, "body is not JSON: %s" % e)
            why = shape_error(body)
            if why:
                return self.fail(400, why)
            metric = body["queries"][0]["metric"]
            with st.lock:
                st.last_body = body
                st.by_metric[metric] = st.by_metric.get(metric, 0) + 1
                st.queries += len(body["queries"])
            rec = st.recorded.get(metric)
            if rec is None:
                return self.fail(400, "no recorded answer for metric %s" % metric)
            results = []
            for q in body["queries"]:
                if q not in rec["queries"]:
                    return self.fail(400, "a query for %s is not in the recording:\n got  %s\n have %s" %
                                     (metric, json.dumps(q), json.dumps(rec["queries"])))
                res = rec["response"]["results"][rec["queries"].index(q)]
                if not body["with-data"]:  # statistics only
                    res = [{k: v for k, v in e.items() if k != "data"} for e in res]
                results.append(res)
            if delay:
                time.sleep(delay)
            if status:
                return self.reply(status, {"error": "fixture told to answer %d" % status})
            self.reply(200, {"results": results})

        def do_POST(self):
            raw = self.body()
            if self.path != "/control":
                return self.fail(404, "no such path: %s" % self.path)
            ctl = json.loads(raw or b"{}")
            with st.lock:
                st.delay = float(ctl.get("delay", st.delay))
                st.status = int(ctl.get("status", st.status))
            self.reply(200, {"delay": st.delay, "status": st.status})

    return Handler


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file", required=True)
    a = ap.parse_args()
    st = State(a.data, a.token)
    srv = ThreadingHTTPServer(("127.0.0.1", a.port), make_handler(st))
    srv.daemon_threads = True
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(tmp, a.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
