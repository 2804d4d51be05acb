#!/usr/bin/python3
"""Run detached execs into a running container the way containerd's shim does.

    exec_subreaper.py N RUNTIME ROOT ID WORKDIR

Like containerd-shim-runc-v2 this process is a child subreaper and reaps
every child with waitpid(-1) (the runtime, and each exec'd process once the
runtime has exited); the runtime runs with a SIGKILL parent-death signal,
its stdout/stderr are pipes we read, and it is called as
`RUNTIME --root ROOT exec --process P --detach --pid-file F ID`.
Each exec'd process prints a token and exits 0; the exec counts as good
only when the runtime exited 0, the pid file names a process that we then
reaped with status 0, and the token came out on the pipe.
Prints one line per bad exec and "N good, M bad"; exit status 1 if any bad.
"""
import ctypes
import json
import os
import select
import signal
import sys
import time

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
libc = ctypes.CDLL(None, use_errno=True)


def status_text(st):
    if os.WIFEXITED(st):
        return "exit %d" % os.WEXITSTATUS(st)
    if os.WIFSIGNALED(st):
        return "signal %d" % os.WTERMSIG(st)
    return "status %#x" % st


class Reaper:
    """Collects every child's exit, as the shim's reaper does."""

    def __init__(self):
        self.exits = {}

    def reap_until(self, pred, timeout):
        deadline = time.monotonic() + timeout
        while not pred():
            try:
                pid, st = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                pid = 0
            if pid > 0:
                self.exits[pid] = st
                continue
            if time.monotonic() > deadline:
                return False
            time.sleep(0.002)
        return True


def spawn_runtime(argv, out_w):
    pid = os.fork()
    if pid == 0:
        try:
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
            devnull = os.open("/dev/null", os.O_RDONLY)
            os.dup2(devnull, 0)
            os.dup2(out_w, 1)
            os.dup2(out_w, 2)
            os.execv(argv[0], argv)
        finally:
            os._exit(127)
    return pid


def read_all(fd, timeout):
    """Read until EOF (every writer closed) or timeout."""
    data = b""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return data, False
        r, _, _ = select.select([fd], [], [], left)
        if not r:
            continue
        chunk = os.read(fd, 4096)
        if not chunk:
            return data, True
        data += chunk


def one_exec(i, runtime, root, cid, work, reaper):
    token = "exec-%d-ok" % i
    spec = {"args": ["sh", "-c", "echo %s" % token], "cwd": "/",
            "env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"],
            "user": {"uid": 0, "gid": 0}, "terminal": False}
    proc_file = os.path.join(work, "process.json")
    pid_file = os.path.join(work, "exec.pid")
    with open(proc_file, "w") as f:
        json.dump(spec, f)
    if os.path.exists(pid_file):
        os.unlink(pid_file)
    r, w = os.pipe()
    rt = spawn_runtime([runtime, "--root", root, "exec", "--process", proc_file,
                        "--detach", "--pid-file", pid_file, cid], w)
    os.close(w)
    if not reaper.reap_until(lambda: rt in reaper.exits, 30):
        os.kill(rt, signal.SIGKILL)
        os.close(r)
        return "runtime did not exit in 30 s"
    rt_st = reaper.exits.pop(rt)
    if rt_st != 0:
        out, _ = read_all(r, 2)
        os.close(r)
        return "runtime: %s: %s" % (status_text(rt_st), out.decode(errors="replace").strip())
    try:
        with open(pid_file) as f:
            pid = int(f.read())
    except (OSError, ValueError) as e:
        os.close(r)
        return "pid file: %s" % e
    if not reaper.reap_until(lambda: pid in reaper.exits, 30):
        os.close(r)
        return "exec'd process %d not reaped in 30 s" % pid
    st = reaper.exits.pop(pid)
    out, eof = read_all(r, 5)
    os.close(r)
    text = out.decode(errors="replace").strip()
    if st != 0 or text != token:
        return "exec'd process %d: %s, output %r (eof %s)" % (pid, status_text(st), text, eof)
    return None


def main():
    n, runtime, root, cid, work = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        print("prctl(PR_SET_CHILD_SUBREAPER): errno %d" % ctypes.get_errno())
        return 2
    reaper = Reaper()
    bad = 0
    for i in range(n):
        why = one_exec(i, runtime, root, cid, work, reaper)
        if why:
            bad += 1
            print("exec %d: %s" % (i, why), flush=True)
    print("%d good, %d bad" % (n - bad, bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
