#!/usr/bin/env python3
"""httpd.py: a small threaded HTTP/1.1 server for corun's tests (tests/net.sh).

  httpd.py [LIMIT]

Binds 127.0.0.1 on a free port and prints the port on standard output;
then prints, on a second line, the port of a listening socket that never
accepts and whose queue is full (connecting to it hangs). Serves until its
standard input reaches end-of-file, or for LIMIT seconds (default 60) at
most. Connections are kept alive. Routes (any method):

  /status/NNN     status NNN (200-599), body "status NNN\\n"; with
                  ?after=SECS a Retry-After: SECS header, with
                  ?date=SECS a Retry-After of the HTTP-date SECS from now
  /body?n=BYTES   status 200, a body of BYTES 'x' characters
  /slow?s=SECS    sleeps SECS seconds, then status 200, body "slow\\n"
  /redirect       302 to /status/200
  /reset          reads the request, then resets the connection (RST)
  /echo           status 200, body: "METHOD PATH", one line per request
                  header ("Name: value"), an empty line, the request body
  /peer           status 200, body: the client's port and a newline
  anything else   404
"""

import email.utils
import http.server
import os
import socket
import struct
import sys
import threading
import time
import urllib.parse


class Handler(http.server.BaseHTTPRequestHandler):
    """Answers every method through route()."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: without this the body waits
    # for the client's delayed ACK (40 ms), capping each connection.
    disable_nagle_algorithm = True

    def log_message(self, format, *args):
        """Log nothing: the tests read stdout for the port only."""

    def __getattr__(self, name):
        """do_GET, do_POST, do_FROB...: every method is routed."""
        if name.startswith("do_"):
            return self.route
        raise AttributeError(name)

    def body(self):
        """The request body (Content-Length only)."""
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def reply(self, code, data=b"", headers=()):
        """Send a response with a Content-Length (no body for HEAD)."""
        self.send_response(code)
        for name, value in headers:
            self.send_header(name, value)
        if code >= 200 and code not in (204, 304):
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD" and code not in (204, 304):
            self.wfile.write(data)

    def reset(self):
        """Close the connection with SO_LINGER 0: the peer gets an RST."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                   struct.pack("ii", 1, 0))
        os.close(self.connection.detach())
        self.close_connection = True

    def route(self):
        """Dispatch on the path."""
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        data = self.body()
        path = url.path
        if path.startswith("/status/") and path[8:].isdigit() \
                and 200 <= int(path[8:]) <= 599:
            code = int(path[8:])
            headers = []
            if "after" in query:
                headers.append(("Retry-After", query["after"][0]))
            if "date" in query:
                when = time.time() + float(query["date"][0])
                headers.append(("Retry-After", email.utils.formatdate(
                    when, usegmt=True)))
            self.reply(code, b"status %d\n" % code, headers)
        elif path == "/body":
            n = int(query.get("n", ["0"])[0])
            self.send_response(200)
            self.send_header("Content-Length", str(n))
            self.end_headers()
            chunk = b"x" * 65536
            while n > 0 and self.command != "HEAD":
                self.wfile.write(chunk[:n])
                n -= min(n, len(chunk))
        elif path == "/slow":
            time.sleep(float(query.get("s", ["1"])[0]))
            self.reply(200, b"slow\n")
        elif path == "/redirect":
            self.reply(302, b"redirecting\n",
                       [("Location", "/status/200")])
        elif path == "/reset":
            self.reset()
        elif path == "/peer":
            self.reply(200, b"%d\n" % self.client_address[1])
        elif path == "/echo":
            lines = ["%s %s" % (self.command, self.path)]
            lines += ["%s: %s" % kv for kv in self.headers.items()]
            out = ("\n".join(lines) + "\n\n").encode("latin-1") + data
            self.reply(200, out)
        else:
            self.reply(404, b"not found\n")


class Server(http.server.ThreadingHTTPServer):
    """Threads that do not hold up exit; a deep accept queue."""

    daemon_threads = True
    request_queue_size = 1024


def full_listener():
    """A socket that listens, never accepts, and has a full queue."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(0)
    port = sock.getsockname()[1]
    fillers = []
    # The queue holds backlog + 1 connections; a connect beyond that
    # is left waiting, so fill it with connects that do not wait.
    for _ in range(8):
        c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        c.setblocking(False)
        c.connect_ex(("127.0.0.1", port))
        fillers.append(c)
    return sock, fillers, port


def main():
    """Serve until stdin closes or the time limit passes."""
    limit = float(sys.argv[1]) if len(sys.argv) > 1 else 60.0
    server = Server(("127.0.0.1", 0), Handler)
    full = full_listener()
    sys.stdout.write("%d\n%d\n" % (server.server_address[1], full[2]))
    sys.stdout.flush()

    def stdin_closed():
        """Exit at end-of-file on standard input."""
        while sys.stdin.buffer.read(4096):
            pass
        os._exit(0)

    threading.Thread(target=stdin_closed, daemon=True).start()
    threading.Timer(limit, os._exit, [0]).start()
    server.serve_forever()


main()
