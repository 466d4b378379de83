"""Running one measured command: spawn, time, CPU, peak RSS (ptrace exit
stop), the per-run budget, the untimed run that follows a script's
children for the largest peak RSS among them, and the untimed helpers that
count a tool's output lines and `ss -tanH`'s rows by state."""

import os
import signal
import subprocess
import tempfile
import threading
import time

from .base import (MARKER, PTRACE_CONT, PTRACE_EVENT_EXIT,
                   PTRACE_O_EXITKILL, PTRACE_O_TRACECLONE, PTRACE_O_TRACEEXIT,
                   PTRACE_O_TRACEFORK, PTRACE_O_TRACEVFORK, PTRACE_SEIZE,
                   SS_STATE_NAMES, WALL, log, ptrace, set_pdeathsig)
from .netlink import bare_dump_child, bare_dump_netns_child


class _Alarm(Exception):
    pass


def _on_alarm(signum, frame):
    raise _Alarm()


_CURRENT_CHILD = []  # pid of the measured child, killed on abnormal exit


class Runner:
    def __init__(self):
        self.devnull = os.open("/dev/null", os.O_WRONLY)
        self.errf = tempfile.TemporaryFile()
        self.env = dict(os.environ, LC_ALL="C")
        self.env.pop(MARKER, None)
        self.ptrace_ok = None
        signal.signal(signal.SIGALRM, _on_alarm)

    def _read_hwm(self, pid):
        try:
            with open("/proc/%d/status" % pid) as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1])
        except OSError:
            pass
        return None

    def _wait(self, pid, timeout, traced):
        """Reap pid; returns (status, rusage, t_end, hwm_kib, timed_out)."""
        hwm = None
        signal.setitimer(signal.ITIMER_REAL, max(timeout, 0.001))
        try:
            while True:
                _, status, ru = os.wait4(pid, 0)
                if os.WIFSTOPPED(status):
                    event = status >> 16
                    if event == PTRACE_EVENT_EXIT:
                        hwm = self._read_hwm(pid)
                        ptrace(PTRACE_CONT, pid, 0, 0)
                    elif event or os.WSTOPSIG(status) == signal.SIGTRAP:
                        ptrace(PTRACE_CONT, pid, 0, 0)
                    else:  # signal-delivery-stop: pass the signal on
                        ptrace(PTRACE_CONT, pid, 0, os.WSTOPSIG(status))
                    continue
                t_end = time.perf_counter()
                signal.setitimer(signal.ITIMER_REAL, 0)
                return status, ru, t_end, hwm, False
        except BaseException as e:
            signal.setitimer(signal.ITIMER_REAL, 0)
            t_end = time.perf_counter()
            status, ru = self._kill_and_reap(pid)
            if isinstance(e, _Alarm):
                return status, ru, t_end, None, True
            raise

    def _kill_and_reap(self, pid):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        end = time.monotonic() + 60
        while time.monotonic() < end:
            try:
                wpid, status, ru = os.wait4(pid, os.WNOHANG)
            except ChildProcessError:
                return None, None
            if wpid == 0:
                time.sleep(0.01)
                continue
            if os.WIFSTOPPED(status):
                try:
                    ptrace(PTRACE_CONT, pid, 0, 0)
                except OSError:
                    pass
                continue
            return status, ru
        return None, None

    def _stderr(self, limit=2000):
        self.errf.seek(0)
        data = self.errf.read(limit)
        return data.decode("utf-8", "replace").strip()

    def _seize(self, pid):
        """Attach after spawn; a tool that already exited cannot be seized."""
        if self.ptrace_ok is False:
            return False
        try:
            ptrace(PTRACE_SEIZE, pid, 0, PTRACE_O_TRACEEXIT | PTRACE_O_EXITKILL)
            self.ptrace_ok = True
            return True
        except OSError as e:
            try:
                with open("/proc/%d/stat" % pid) as f:
                    state = f.read().rsplit(")", 1)[1].split()[0]
            except (OSError, IndexError):
                state = "?"
            if state not in ("Z", "X", "?") and self.ptrace_ok is None:
                log("ptrace unavailable (%s): no peak RSS (ru_maxrss would "
                    "include the harness)" % e)
                self.ptrace_ok = False
            return False

    def run(self, argv, timeout, stdout=None, stderr_chars=500):
        """Spawn argv with stdout to /dev/null (or to the descriptor
        `stdout`); time, CPU, peak RSS; the first stderr_chars of its
        stderr.

        posix_spawn (vfork + exec) keeps the harness cost near 1 ms; the
        child is then seized with ptrace so its own VmHWM can be read at its
        exit stop (a tool that finishes before that gets no RSS sample).
        """
        errfd = self.errf.fileno()
        self.errf.seek(0)
        self.errf.truncate()
        fa = [(os.POSIX_SPAWN_DUP2, self.devnull if stdout is None
               else stdout, 1),
              (os.POSIX_SPAWN_DUP2, errfd, 2)]
        t0 = time.perf_counter()
        pid = os.posix_spawn(argv[0], argv, self.env, file_actions=fa)
        _CURRENT_CHILD[:] = [pid]
        traced = self._seize(pid)
        status, ru, t_end, hwm, timed_out = self._wait(pid, timeout, traced)
        _CURRENT_CHILD[:] = []
        rec = {"wall": t_end - t0, "timed_out": timed_out, "rss_kib": hwm}
        if ru is not None:
            rec["cpu"] = ru.ru_utime + ru.ru_stime
            rec["ru_maxrss_kib"] = ru.ru_maxrss
        rec["exit"] = _exit_code(status)
        err = self._stderr(max(2000, stderr_chars))
        if err:
            rec["stderr"] = err[:stderr_chars]
        return rec

    def run_follow(self, argv, timeout):
        """Run argv (a shell loop) in its own process group, follow every
        process it forks (ptrace), and read each one's VmHWM at its exit
        stop.  Returns a run record as run() does ("wall", "cpu": of the
        script and every child it reaped, "exit", "timed_out") where
        "rss_kib" is the largest process's, with "comm": whose, and
        "processes": how many exited.  Following costs a few ptrace stops
        per process (fork, first stop, exit).

        A script's own VmHWM says nothing about the `ss` it runs, and
        `ru_maxrss` from wait4 counts the harness (vfork).  Waiting on
        -pgid with __WALL sees only this command's processes, never the
        population's workers.
        """
        fa = [(os.POSIX_SPAWN_DUP2, self.devnull, 1),
              (os.POSIX_SPAWN_DUP2, self.devnull, 2)]
        t0 = time.perf_counter()
        pid = os.posix_spawn(argv[0], argv, self.env, file_actions=fa,
                             setpgroup=0)
        _CURRENT_CHILD[:] = [pid]
        opts = (PTRACE_O_TRACEEXIT | PTRACE_O_EXITKILL | PTRACE_O_TRACEFORK |
                PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE)
        ptrace(PTRACE_SEIZE, pid, 0, opts)
        best, comm, exited, status, ru = 0, None, 0, None, None
        signal.setitimer(signal.ITIMER_REAL, max(timeout, 0.001))
        try:
            while True:
                wpid, st, wru = os.wait4(-pid, WALL)
                if os.WIFSTOPPED(st):
                    event, sig = st >> 16, os.WSTOPSIG(st)
                    if event == PTRACE_EVENT_EXIT:
                        hwm = self._read_hwm(wpid) or 0
                        exited += 1
                        if hwm > best:
                            best, comm = hwm, _comm(wpid)
                        sig = 0
                    elif event or sig == signal.SIGTRAP:
                        sig = 0  # fork/clone events, a new tracee's stop
                    try:
                        ptrace(PTRACE_CONT, wpid, 0, sig)
                    except OSError:
                        pass  # killed meanwhile
                    continue
                if wpid == pid:
                    t_end = time.perf_counter()
                    status, ru = st, wru
                    break
        except BaseException as e:
            t_end = time.perf_counter()
            signal.setitimer(signal.ITIMER_REAL, 0)
            _kill_group(pid)
            if not isinstance(e, _Alarm):
                raise
            return {"wall": t_end - t0, "rss_kib": best or None,
                    "comm": comm, "processes": exited, "exit": None,
                    "timed_out": True}
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            _CURRENT_CHILD[:] = []
        return {"wall": t_end - t0, "cpu": ru.ru_utime + ru.ru_stime,
                "rss_kib": best or None, "comm": comm, "processes": exited,
                "exit": _exit_code(status), "timed_out": False}

    def run_bare_dump(self, timeout, netns=None):
        """The bare dump in a forked child: in the harness's namespace, or
        in each of `netns` ((path, inode) pairs) entered in turn."""
        r, w = os.pipe()
        t0 = time.perf_counter()
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                os.close(r)
                set_pdeathsig()
                signal.signal(signal.SIGALRM, signal.SIG_DFL)
                if netns is None:
                    bare_dump_child(w)
                else:
                    bare_dump_netns_child(w, netns)
                code = 0
            finally:
                os._exit(code)
        _CURRENT_CHILD[:] = [pid]
        os.close(w)
        status, ru, t_end, _, timed_out = self._wait(pid, timeout, False)
        _CURRENT_CHILD[:] = []
        data = b""
        while True:
            chunk = os.read(r, 64)
            if not chunk:
                break
            data += chunk
        os.close(r)
        rec = {"wall": t_end - t0, "timed_out": timed_out,
               "exit": _exit_code(status), "rss_kib": None}
        if ru is not None:
            rec["cpu"] = ru.ru_utime + ru.ru_stime
            rec["ru_maxrss_kib"] = ru.ru_maxrss
        f = data.split()
        if len(f) == 2 and f[0].isdigit():
            rec["count"] = int(f[0])
            rec["inner"] = float(f[1])
        return rec

    def fork_overhead(self):
        t0 = time.perf_counter()
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        os.waitpid(pid, 0)
        return time.perf_counter() - t0


def _kill_group(pgid, seconds=30):
    """SIGKILL the process group we made (spawned with setpgroup=0) and
    collect every member: as their tracer we must wait for them too."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        return
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            wpid, st, _ = os.wait4(-pgid, WALL | os.WNOHANG)
        except ChildProcessError:
            return
        if wpid == 0:
            time.sleep(0.01)
        elif os.WIFSTOPPED(st):
            try:
                ptrace(PTRACE_CONT, wpid, 0, 0)
            except OSError:
                pass


def _comm(pid):
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read().strip()
    except OSError:
        return None


def _exit_code(status):
    if status is None:
        return None
    if os.WIFEXITED(status):
        return os.WEXITSTATUS(status)
    if os.WIFSIGNALED(status):
        return -os.WTERMSIG(status)
    return None


def kill_current_child():
    for pid in _CURRENT_CHILD:
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
    _CURRENT_CHILD[:] = []


def count_lines(argv, timeout, env):
    """Run argv once with stdout to a pipe; count its lines (streaming)."""
    p = subprocess.Popen(argv, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, env=env)
    timer = threading.Timer(timeout, p.kill)
    timer.start()
    lines = 0
    first = b""
    try:
        while True:
            chunk = p.stdout.read(1 << 20)
            if not chunk:
                break
            if not first:
                first = chunk[:200]
            lines += chunk.count(b"\n")
    finally:
        timer.cancel()
        timer.join()
        p.stdout.close()
        p.wait()
    return lines, first.split(b"\n", 1)[0].decode("utf-8", "replace")


def ss_state_counts(ss, timeout, env):
    p = subprocess.Popen([ss, "-tanH"], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, env=env)
    timer = threading.Timer(timeout, p.kill)
    timer.start()
    counts = {}
    try:
        for line in p.stdout:
            st = line.split(None, 1)[0].decode() if line.strip() else None
            if st:
                st = SS_STATE_NAMES.get(st, st)
                counts[st] = counts.get(st, 0) + 1
    finally:
        timer.cancel()
        timer.join()
        p.stdout.close()
        p.wait()
    return counts
