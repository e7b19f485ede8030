#!/usr/bin/python3
"""tests/harness/syslogd.py - the scenario root's /dev/log (run-scenario).

Runs chrooted in the scenario root with the root's python3.  Owns /dev/log
(a datagram socket) and the two FIFOs CTL and ACK made by run-scenario.

Every record is written to stdout as one line, its timestamp and pid
removed and nothing else changed: glibc's
    <18>Nov 25 01:56:22 postmulti[29915]: fatal: No matching instances
becomes
    <18> postmulti: fatal: No matching instances
(newlines inside a record are written as \\n).  When a line arrives on CTL,
everything already queued on the socket is written out and the same line is
echoed on ACK: run-scenario uses that after each step, so the records a
step sent are all on stdout when it reads the step's share.

Usage: syslogd.py SOCKET CTL ACK
"""

import os
import re
import select
import socket
import sys

RECORD = re.compile(
    rb"<(\d+)>(?:[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d )?([^\s\[:]*)(?:\[\d+\])?: ?(.*)", re.S)


def write(fd, data):
    data = data.rstrip(b"\0").rstrip(b"\n").replace(b"\n", b"\\n")
    m = RECORD.fullmatch(data)
    if m:
        data = b"<%s> %s: %s" % (m.group(1), m.group(2), m.group(3))
    os.write(fd, data + b"\n")


def main():
    path, ctl_path, ack_path = sys.argv[1:4]
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    os.chmod(path, 0o666)
    sock.setblocking(False)
    ctl = os.open(ctl_path, os.O_RDWR)
    ack = os.open(ack_path, os.O_RDWR)
    out = sys.stdout.fileno()
    while True:
        ready, _, _ = select.select([sock, ctl], [], [])
        if sock in ready:
            try:
                write(out, sock.recv(65536))
            except BlockingIOError:
                pass
        if ctl in ready:
            request = os.read(ctl, 4096)
            while True:
                try:
                    write(out, sock.recv(65536))
                except BlockingIOError:
                    break
            os.write(ack, request)


if __name__ == "__main__":
    main()
