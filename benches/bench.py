#!/usr/bin/python3
"""benches/bench.py - the measuring driver of benches/run.

Runs as root INSIDE the overlay root that benches/run prepares (private
namespaces, fresh pristine Postfix state), with the two binaries under test
at /run/bench/postmulti.real and /run/bench/postmulti.ours.  Never run it
on a host: it rewrites /etc/postfix and bind-mounts over /usr/sbin/postmulti.

Owns: the synthetic instances (postfix-bench-1 ... postfix-bench-N), the
choice of the binary at /usr/sbin/postmulti (a bind mount, switched between
runs), the timer, and OUT/results.json, OUT/bench.log.

The timer: each run is one posix_spawn (no shell, like `hyperfine -N`) and
one wait4, the wall time taken around the two; the number of processes the
run made is the change of /proc/sys/kernel/ns_last_pid (nothing else runs
in this pid namespace).  Real and ours (and the floors) are interleaved per
repetition, ABBA: round r runs real, ours, floors; round r+1 the reverse
order, so a slow spell of the shared machine hits both.

Peak memory is measured in separate, untimed rounds after the timed ones,
as GNU `time -f %M` (copied from the host to /run/bench/time) reports it:
ru_maxrss of the command, which is the largest resident set of the process
and of every descendant it waited for.  (Not from this driver's own wait4:
a child inherits the high-water mark of the address space it was forked or
vforked from, here the ~18 MB of python; GNU time is ~1 MB, so that is the
floor of the method, reported as /bin/true's.)  Memory rounds run without
address-space randomisation, which makes the peaks exact and repeatable.

Before each life-cycle (-e) command, every main.cf written in the last 10 s
is back-dated by 10 s (untimed), as the differential harness does: Postfix
programs pause 1 s before reading a main.cf modified in the last second,
which would otherwise charge one command for the writes of the previous
one.  The pause a command causes itself (postmulti-script's postconf reading
the main.cf it has just written) is part of that command and is measured.
"""

import argparse
import ctypes
import json
import os
import pwd
import sys
import time

TARGET = "/usr/sbin/postmulti"
BINARIES = {"real": "/run/bench/postmulti.real", "ours": "/run/bench/postmulti.ours"}
ENV = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "HOME": "/root", "LANG": "C", "USER": "root", "LOGNAME": "root", "SHELL": "/bin/bash",
}
PREFIX = "postfix-bench-"
NEW = "postfix-new"          # the instance -e create makes and -e destroy removes
TOGGLED = PREFIX + "1"       # the instance -e enable / -e disable switch

# Repetitions: at least MIN_REPS[N] timed rounds; a cheap test goes on
# until it has used BUDGET seconds or MAX_REPS rounds.  P_REPS (-p status)
# and LIFE_REPS (the life-cycle pairs create+destroy, enable+disable) are
# never extended.  MEM_REPS: rounds under GNU time for -l, -l -j, -x (one
# for the others).
FULL = {
    "min_reps": {0: 20, 1: 20, 10: 15, 100: 8, 1000: 4},
    "p_reps": {0: 10, 1: 10, 10: 5, 100: 3},
    "life_reps": {0: 5, 1: 5, 10: 5, 100: 3, 1000: 3},
    "mem_reps": {0: 3, 1000: 1},
    "budget": 3.0, "max_reps": 200,
}
QUICK = {
    "min_reps": {0: 10, 1: 10, 10: 5, 100: 3, 1000: 2},
    "p_reps": {0: 5, 1: 5, 10: 3, 100: 2},
    "life_reps": {0: 2, 1: 2, 10: 2, 100: 2, 1000: 1},
    "mem_reps": {0: 1},
    "budget": 1.0, "max_reps": 100,
}
P_STATUS_MAX_N = 100         # -p status only up to here (one postfix status per instance)


def reps_for(table, n):
    """The entry of a per-N table for N (the nearest listed N below it)."""
    keys = sorted(k for k in table if k <= n) or [min(table)]
    return table[keys[-1]]


# ------------------------------------------------------------------ logging
LOG = None


def log(*words):
    line = " ".join(str(w) for w in words)
    print("bench:", line, file=sys.stderr, flush=True)
    if LOG:
        LOG.write(time.strftime("%H:%M:%S ") + line + "\n")
        LOG.flush()


# ------------------------------------------------- the binary under test
libc = ctypes.CDLL(None, use_errno=True)
MS_BIND = 4096
ADDR_NO_RANDOMIZE = 0x0040000
bound = None


def use(side):
    """Bind-mount the private copy of SIDE's binary over /usr/sbin/postmulti."""
    global bound
    if bound == side:
        return
    if bound is not None and libc.umount2(TARGET.encode(), 0) != 0:
        raise OSError(ctypes.get_errno(), "umount " + TARGET)
    bound = None
    if libc.mount(BINARIES[side].encode(), TARGET.encode(), None, MS_BIND, None) != 0:
        raise OSError(ctypes.get_errno(), "bind %s over %s" % (BINARIES[side], TARGET))
    bound = side


# ---------------------------------------------------------------- the timer
DEVNULL = os.open("/dev/null", os.O_RDWR)
ERRFILE = "/run/bench/stderr"
RSSFILE = "/run/bench/rss"
TIME = ["/run/bench/time", "-q", "-o", RSSFILE, "-f", "%M"]


def last_pid():
    with open("/proc/sys/kernel/ns_last_pid") as f:
        return int(f.read())


def spawn(argv, stdout=DEVNULL, mem=False):
    """One run: (seconds, peak RSS KiB or None, exit code, processes made,
    user CPU s, system CPU s -- of the command and the children it waited for);
    with MEM, run under GNU time for the peak RSS (the time is then not
    the command's own).  stderr goes to ERRFILE (read it after a failure)."""
    if mem:
        argv = TIME + argv
    err = os.open(ERRFILE, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    actions = [(os.POSIX_SPAWN_DUP2, DEVNULL, 0), (os.POSIX_SPAWN_DUP2, stdout, 1),
               (os.POSIX_SPAWN_DUP2, err, 2)]
    p0 = last_pid()
    t0 = time.perf_counter_ns()
    pid = os.posix_spawn(argv[0], argv, ENV, file_actions=actions)
    _, status, usage = os.wait4(pid, 0)
    t1 = time.perf_counter_ns()
    procs = last_pid() - p0
    os.close(err)
    rss = None
    if mem:
        with open(RSSFILE) as f:
            rss = int(f.read().split()[-1])
    return ((t1 - t0) / 1e9, rss, os.waitstatus_to_exitcode(status), procs,
            usage.ru_utime, usage.ru_stime)


def stderr_text():
    with open(ERRFILE, errors="replace") as f:
        return f.read()


def capture(argv):
    """Run untimed; (exit code, stdout, stderr)."""
    out = os.open("/run/bench/stdout", os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
    rc = spawn(argv, stdout=out)[2]
    os.close(out)
    with open("/run/bench/stdout", errors="replace") as f:
        return rc, f.read(), stderr_text()


def postmulti(*args):
    return [TARGET] + list(args)


# ------------------------------------------------------ Postfix state setup
def cool():
    """Back-date every main.cf of a Postfix configuration directory that
    was written in the last 10 s (untimed)."""
    past = time.time() - 10
    for entry in os.scandir("/etc"):
        if entry.name == "postfix" or entry.name.startswith("postfix-"):
            path = entry.path + "/main.cf"
            try:
                if os.stat(path).st_mtime > past:
                    os.utime(path, (past, past))
            except FileNotFoundError:
                pass


def postconf_h(name):
    rc, out, err = capture(["/usr/sbin/postconf", "-c", "/etc/postfix", "-h", name])
    if rc != 0:
        sys.exit("bench.py: postconf -h %s failed: %s" % (name, err))
    return out.strip()


class Instances:
    """The synthetic secondaries postfix-bench-1 ... postfix-bench-N;
    ENABLED ones are enabled and in the group `bench` (the extensions'
    start and stop runs)."""

    def __init__(self, enabled=False):
        self.n = 0
        self.enabled = enabled
        owner = pwd.getpwnam(postconf_h("mail_owner"))
        self.uid, self.gid = owner.pw_uid, owner.pw_gid
        with open("/etc/postfix/master.cf.proto", "rb") as f:
            self.master = f.read()

    def grow(self, n):
        """Write instances n+1 ... N and register all of them with one
        postconf -e; back-date every file written."""
        past = time.time() - 10
        for i in range(self.n + 1, n + 1):
            name = PREFIX + str(i)
            cfg, queue, data = "/etc/" + name, "/var/spool/" + name, "/var/lib/" + name
            for d in (cfg, queue, data):
                os.makedirs(d, exist_ok=True)
            os.chown(data, self.uid, self.gid)
            os.chmod(data, 0o700)
            with open(cfg + "/main.cf", "w") as f:
                f.write("queue_directory = %s\n" % queue
                        + "data_directory = %s\n" % data
                        + "multi_instance_name = %s\n" % name
                        + ("multi_instance_enable = yes\nmulti_instance_group = bench\n"
                           if self.enabled else "multi_instance_enable = no\n")
                        + "master_service_disable = inet\n"
                        + "compatibility_level = 3.6\n")
            with open(cfg + "/master.cf", "wb") as f:
                f.write(self.master)
            for p in (cfg + "/main.cf", cfg + "/master.cf"):
                os.utime(p, (past, past))
        if n != self.n:
            dirs = " ".join("/etc/%s%d" % (PREFIX, i) for i in range(1, n + 1))
            rc, _, err = capture(["/usr/sbin/postconf", "-c", "/etc/postfix", "-e",
                                  "multi_instance_directories = " + dirs])
            if rc != 0:
                sys.exit("bench.py: postconf -e multi_instance_directories failed: " + err)
        self.n = n
        cool()

    def dirs(self):
        return ["/etc/postfix"] + ["/etc/%s%d" % (PREFIX, i) for i in range(1, self.n + 1)]


# -------------------------------------------------------------- the tests
def simple(command_args, label):
    """A side that runs /usr/sbin/postmulti ARGS once."""
    def side(name):
        def rep(mem):
            use(name)
            return {label: spawn(postmulti(*command_args), mem=mem)}
        return rep
    return side


def check_ok(name, label, sample):
    if sample[2] != 0:
        log("WARNING: %s %s exited %d: %s" % (name, label, sample[2], stderr_text().strip()[:400]))


def create_destroy(name):
    def rep(mem):
        use(name)
        cool()
        a = spawn(postmulti("-I", NEW, "-e", "create"), mem=mem)
        check_ok(name, "-e create", a)
        cool()
        b = spawn(postmulti("-i", NEW, "-e", "destroy"), mem=mem)
        check_ok(name, "-e destroy", b)
        cool()
        if os.path.exists("/etc/" + NEW):
            sys.exit("bench.py: %s: -e destroy left /etc/%s behind" % (name, NEW))
        return {"-e create": a, "-e destroy": b}
    return rep


def enable_disable(name):
    def rep(mem):
        use(name)
        cool()
        a = spawn(postmulti("-i", TOGGLED, "-e", "enable"), mem=mem)
        check_ok(name, "-e enable", a)
        cool()
        b = spawn(postmulti("-i", TOGGLED, "-e", "disable"), mem=mem)
        check_ok(name, "-e disable", b)
        cool()
        return {"-e enable": a, "-e disable": b}
    return rep


def start_stop(parallel):
    """Ours starting and then stopping the group `bench`, one instance at
    a time or with --parallel."""
    extra = ["--parallel"] if parallel else []

    def rep(mem):
        use("ours")
        a = spawn(postmulti(*extra, "-g", "bench", "-p", "start"), mem=mem)
        check_ok("ours", " ".join(extra + ["-p", "start"]), a)
        b = spawn(postmulti(*extra, "-g", "bench", "-p", "stop"), mem=mem)
        check_ok("ours", " ".join(extra + ["-p", "stop"]), b)
        return {"-p start": a, "-p stop": b}
    return rep


def extensions(ns, plan, reps_override, results, checks):
    """The long options against what they replace, at each N: `-l
    --status` against the real `-p status`; `--parallel -p start` and
    `stop` against the same commands one instance at a time."""
    inst = Instances(enabled=True)
    for n in ns:
        log("N=%d: writing enabled instances" % n)
        inst.grow(n)
        reps = reps_override or reps_for(plan["p_reps"], n)
        verify(n, ["-l"], checks)
        measure(n, "status", [("real", simple(["-p", "status"], "-p status")("real")),
                              ("ours", simple(["-l", "--status"], "-l --status")("ours"))],
                reps, 0, reps, 1, results)
        # A first start makes the queue directories (untimed).
        start_stop(False)(False)
        life = reps_override or reps_for(plan["life_reps"], n)
        measure(n, "parallel", [("sequential", start_stop(False)), ("parallel", start_stop(True))],
                life, 0, life, 1, results)


def floor_side(argv, label):
    def rep(mem):
        return {label: spawn(argv, mem=mem)}
    return rep


def measure(n, title, sides, min_reps, budget, max_reps, mem_reps, results):
    """Interleaved timed rounds over SIDES [(side, rep)], ABBA order, then
    MEM_REPS rounds under GNU time for the peak memory; appends one entry
    per (side, command) to RESULTS."""
    samples, rss = {}, {}
    start = time.monotonic()
    rounds = 0
    while rounds < min_reps or (rounds < max_reps and time.monotonic() - start < budget):
        order = sides if rounds % 2 == 0 else sides[::-1]
        for side, rep in order:
            for label, sample in rep(False).items():
                samples.setdefault((side, label), []).append(sample)
        rounds += 1
    # Address-space randomisation off for the memory rounds (inherited by
    # every child): with it, the peak of one and the same program varies by
    # +-3% from run to run; without it, it is the same to the KiB.
    persona = libc.personality(0xFFFFFFFF)
    libc.personality(persona | ADDR_NO_RANDOMIZE)
    try:
        for r in range(mem_reps):
            for side, rep in (sides if r % 2 == 0 else sides[::-1]):
                for label, sample in rep(True).items():
                    rss.setdefault((side, label), []).append(sample[1])
    finally:
        libc.personality(persona)
    for (side, label), ss in samples.items():
        results.append({
            "n": n, "test": title, "command": label, "side": side,
            "times": [s[0] for s in ss], "rss_kib": rss.get((side, label), []),
            "user": [s[4] for s in ss], "sys": [s[5] for s in ss],
            "exit": sorted(set(s[2] for s in ss)), "procs": sorted(set(s[3] for s in ss)),
        })
    log("N=%d %s: %d timed rounds, %d memory rounds in %.1f s"
        % (n, title, rounds, mem_reps, time.monotonic() - start))


def verify(n, args, checks):
    """Run -l-like ARGS once with each binary (untimed; it is the warm-up
    too) and record whether stdout, stderr and exit status agree."""
    got = {}
    for side in ("real", "ours"):
        use(side)
        got[side] = capture(postmulti(*args))
    same = got["real"] == got["ours"]
    entry = {"n": n, "command": " ".join(args), "identical": same,
             "exit": got["real"][0], "stdout_lines": got["real"][1].count("\n"),
             "stderr": got["real"][2][:300]}
    if not same:
        entry["ours_exit"], entry["ours_stderr"] = got["ours"][0], got["ours"][2][:300]
        log("WARNING: N=%d postmulti %s: real and ours differ" % (n, " ".join(args)))
    checks.append(entry)


def hyperfine_check(n, results_dir):
    """The timer's cross-check: hyperfine -N on -l with both binaries by
    path (hyperfine runs all runs of one command, then the other)."""
    path = results_dir + "/hyperfine-l-N%d.json" % n
    argv = ["/run/bench/hyperfine", "-N", "--warmup", "3", "--min-runs", "30", "--style", "none",
            "--export-json", path,
            "--command-name", "real", BINARIES["real"] + " -l",
            "--command-name", "ours", BINARIES["ours"] + " -l"]
    rc, _, err = capture(argv)
    if rc != 0:
        log("WARNING: hyperfine failed: " + err.strip()[:300])
        return None
    with open(path) as f:
        data = json.load(f)
    return {"n": n, "command": "-l", "file": os.path.basename(path),
            "median": {r["command"]: r["median"] for r in data["results"]},
            "stddev": {r["command"]: r["stddev"] for r in data["results"]}}


# ------------------------------------------------------------------ main
def main():
    global LOG
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", required=True, help="instance counts, e.g. '0 1 10'")
    ap.add_argument("--out", required=True)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--reps", type=int)
    ap.add_argument("--extensions", action="store_true",
                    help="measure the long options instead (see extensions())")
    a = ap.parse_args()
    ns = sorted(set(int(x) for x in a.n.split()))
    plan = QUICK if a.quick else FULL
    os.umask(0o022)
    os.chdir("/root")
    LOG = open(a.out + "/bench.log", "a")
    started = time.time()
    results, checks, xcheck = [], [], []

    # The primary: postmulti -e init (the real one, untimed), back-dated.
    use("real")
    rc, _, err = capture(postmulti("-e", "init"))
    if rc != 0:
        sys.exit("bench.py: postmulti -e init failed: " + err)
    cool()
    if a.extensions:
        extensions(ns, plan, a.reps, results, checks)
        use("ours")
        with open(a.out + "/results.json", "w") as f:
            json.dump({"ns": ns, "quick": a.quick, "extensions": True, "results": results,
                       "checks": checks, "seconds": round(time.time() - started, 1)}, f, indent=1)
        log("driver done in %.0f s" % (time.time() - started))
        return
    inst = Instances()
    bash_empty = floor_side(["/bin/bash", "-c", ":"], "bash -c :")
    true_once = floor_side(["/bin/true"], "/bin/true")

    # The timer's cross-check runs at N = 10 (or the N nearest to it).
    xn = min(ns, key=lambda k: abs(k - 10))
    for n in ns:
        log("N=%d: writing instances" % n)
        inst.grow(n)
        dirs = inst.dirs()
        reps = a.reps or reps_for(plan["min_reps"], n)
        p_reps = a.reps or reps_for(plan["p_reps"], n)
        life = a.reps or reps_for(plan["life_reps"], n)
        mem = reps_for(plan["mem_reps"], n)
        budget, max_reps = plan["budget"], max(plan["max_reps"], reps)

        def cmd(*args):
            """Real and ours running postmulti ARGS."""
            label = " ".join(args)
            return [(side, simple(list(args), label)(side)) for side in ("real", "ours")]

        # Untimed: do real and ours agree?  (Also the warm-up.)
        for args in (["-l"], ["-l", "-j"], ["-x", "true"]):
            verify(n, args, checks)

        # -l and -l -j; floor: reading the files ours reads (the primary's
        # main.cf, each secondary's main.cf and master.cf) in one process.
        files = ["/etc/postfix/main.cf"] + [d + f for d in dirs[1:] for f in ("/main.cf", "/master.cf")]
        cat = ("floor", floor_side(["/bin/cat"] + files, "floor"))
        measure(n, "-l", cmd("-l") + [cat], reps, budget, max_reps, mem, results)
        measure(n, "-l -j", cmd("-l", "-j"), reps, budget, max_reps, mem, results)

        # -x true; floor: N+1 fork+exec of /bin/true from a shell loop, less
        # the shell's own start (bash -c :), plus one start of /bin/true
        # (postmulti's own start); report.py does the arithmetic.
        loop = floor_side(["/bin/bash", "-c", "for ((i = 0; i < %d; i++)); do /bin/true; done" % (n + 1)],
                          "floor")
        measure(n, "-x true", cmd("-x", "true") + [("floor", loop), ("bash", bash_empty), ("true", true_once)],
                reps, budget, max_reps, mem, results)

        # -p status: `postfix -- status` per instance, MAIL_CONFIG set;
        # floor: the same children from a shell loop, less bash -c :, plus
        # one start of /bin/true (postmulti's own start).
        if n <= P_STATUS_MAX_N:
            verify(n, ["-p", "status"], checks)
            script = "for d in %s; do MAIL_CONFIG=$d /usr/sbin/postfix -- status; done" % " ".join(dirs)
            children = floor_side(["/bin/bash", "-c", script], "floor")
            measure(n, "-p status", cmd("-p", "status") + [("floor", children), ("bash", bash_empty),
                                                          ("true", true_once)],
                    p_reps, 0, p_reps, 1, results)

        if n == xn:
            xcheck.append(hyperfine_check(n, a.out))

        # The life cycle: -e create of one more instance, then -e destroy
        # of it; -e enable of postfix-bench-1, then -e disable.
        measure(n, "-e create/destroy", [("real", create_destroy("real")), ("ours", create_destroy("ours"))],
                life, 0, life, 1, results)
        if n >= 1:
            measure(n, "-e enable/disable", [("real", enable_disable("real")), ("ours", enable_disable("ours"))],
                    life, 0, life, 1, results)

    use("ours")   # leave ours in place for the profile benches/run takes next
    plan_json = {k: ({str(n): r for n, r in v.items()} if isinstance(v, dict) else v)
                 for k, v in plan.items()}
    with open(a.out + "/results.json", "w") as f:
        json.dump({"ns": ns, "quick": a.quick, "plan": plan_json, "reps": a.reps,
                   "p_status_max_n": P_STATUS_MAX_N, "results": results, "checks": checks,
                   "hyperfine": [x for x in xcheck if x], "seconds": round(time.time() - started, 1)},
                  f, indent=1)
    log("driver done in %.0f s" % (time.time() - started))


if __name__ == "__main__":
    main()
