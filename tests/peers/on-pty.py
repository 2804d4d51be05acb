#!/usr/bin/env python3
# tests/peers/on-pty.py CMD [ARGS...]
#
# Runs CMD with its stdin and stdout on a new pseudoterminal (its controlling
# terminal, in a session of its own) and copies what CMD writes there to our
# stdout, carriage returns dropped; CMD's stderr stays ours. Exits with CMD's
# status.
#
# Why: crun's terminal tests (test_terminal.py, test_tty.py, exec's uid-tty)
# skip themselves unless their stdout is a terminal, and run-peers.sh's
# output goes to files. On a terminal they exercise the runtime's pty
# handling: sizes, the container's stdio on its pty, exec with a terminal.
import os
import select
import sys
import termios
import fcntl


def child(slave, argv):
    os.setsid()
    fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
    os.dup2(slave, 0)
    os.dup2(slave, 1)
    if slave > 1:
        os.close(slave)
    try:
        os.execvp(argv[0], argv)
    except OSError as e:
        sys.stderr.write("on-pty.py: %s: %s\n" % (argv[0], e.strerror))
        os._exit(127)


def copy_out(master, pid):
    """Copy until CMD has exited and nothing more arrives for a second
    (a process CMD left behind may hold the terminal open for good)."""
    status = None
    while True:
        if status is None:
            done, st = os.waitpid(pid, os.WNOHANG)
            if done:
                status = st
        ready, _, _ = select.select([master], [], [], 0.2 if status is None else 1.0)
        if not ready:
            if status is not None:
                return status
            continue
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: every holder of the terminal closed it
            data = b""
        if not data:
            if status is None:
                _, status = os.waitpid(pid, 0)
            return status
        sys.stdout.buffer.write(data.replace(b"\r", b""))
        sys.stdout.flush()


def main(argv):
    if not argv:
        sys.stderr.write("usage: on-pty.py CMD [ARGS...]\n")
        return 2
    master, slave = os.openpty()
    pid = os.fork()
    if pid == 0:
        os.close(master)
        child(slave, argv)
    os.close(slave)
    status = copy_out(master, pid)
    os.close(master)
    return os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
