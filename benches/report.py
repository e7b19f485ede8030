#!/usr/bin/python3
"""benches/report.py DIR - the report of a benches/run results directory.

Owns the presentation of a run: reads DIR/machine.txt, DIR/results.json
(benches/bench.py) and DIR/profile/*.self.txt (callgrind_annotate), and
prints, as Markdown, the machine, the results table (median and spread of
each side, the ratio real/ours, the floors, peak memory, processes per
run), each target of issue #4 marked MET or NOT MET with its numbers, the
equivalence checks, the timer's cross-check and the top of the profiles.
Run by benches/run; can be re-run on an existing DIR.
"""

import glob
import json
import os
import re
import statistics
import sys

COMMANDS = ["-l", "-l -j", "-x true", "-p status", "-e create", "-e destroy", "-e enable", "-e disable"]


def fmt_t(t):
    """Seconds as a short human time."""
    if t is None:
        return "-"
    if t < 0:
        return "%.3f ms" % (t * 1e3)
    if t < 0.001:
        return "%.3f ms" % (t * 1e3)
    if t < 0.01:
        return "%.2f ms" % (t * 1e3)
    if t < 1:
        return "%.1f ms" % (t * 1e3)
    return "%.2f s" % t


def fmt_kib(k):
    return "-" if k is None else "%.1f MiB" % (k / 1024)


class Stat:
    def __init__(self, entry):
        ts = entry["times"]
        self.n_runs = len(ts)
        self.median = statistics.median(ts)
        self.sd = statistics.stdev(ts) if len(ts) > 1 else 0.0
        self.min, self.max = min(ts), max(ts)
        # peak RSS: the median of the runs' peaks (one run's peak when
        # there is one run)
        self.rss = statistics.median_high(entry["rss_kib"]) if entry["rss_kib"] else None
        self.procs = entry["procs"]
        # CPU time: the mean of user + system (the kernel splits the two by
        # ticks, their sum is exact)
        self.cpu = (statistics.mean(u + s for u, s in zip(entry["user"], entry["sys"]))
                    if entry.get("user") else None)
        self.exit = entry["exit"]

    def cell(self):
        if self.n_runs < 2:
            return fmt_t(self.median)
        return "%s ±%.0f%%" % (fmt_t(self.median), 100 * self.sd / self.median if self.median else 0)


def procs_text(p):
    """Processes per run: one number, or the range seen."""
    if not p:
        return "-"
    return str(p[0]) if p[0] == p[-1] else "%d–%d" % (p[0], p[-1])


def extensions_report(d, data):
    """The report of benches/run --extensions."""
    stats = {(e["n"], e["command"], e["side"]): Stat(e) for e in data["results"]}
    out = []
    w = out.append
    w("# postmulti benchmark: our long options against what they replace")
    w("")
    w("```")
    with open(os.path.join(d, "machine.txt")) as f:
        w(f.read().rstrip())
    w("```")
    w("")
    w("N enabled secondaries in one group. `-l --status` (ours) against the real "
      "`-p status` (what scripts scrape today); `--parallel -p start` and `stop` (ours, "
      "default N: the CPUs, one fewer for stop) against ours one instance at a time, "
      "`-g bench` (the primary not included). Median ±standard deviation; the runs are interleaved.")
    w("")
    w("| N | command | baseline | ours | baseline/ours | runs |")
    w("|---:|---|---:|---:|---:|---:|")
    rows = [("-p status", "real", "-l --status", "ours", "`-l --status` vs real `-p status`"),
            ("-p start", "sequential", "-p start", "parallel", "`--parallel -p start` vs `-p start`"),
            ("-p stop", "sequential", "-p stop", "parallel", "`--parallel -p stop` vs `-p stop`")]
    ratios = {}
    for n in data["ns"]:
        for base_cmd, base_side, cmd, side, title in rows:
            b, o = stats.get((n, base_cmd, base_side)), stats.get((n, cmd, side))
            if not b or not o:
                continue
            ratios[(n, title)] = (b.median / o.median, b, o)
            w("| %d | %s | %s | %s | %.1fx | %d |" % (n, title, b.cell(), o.cell(),
                                                       b.median / o.median, min(b.n_runs, o.n_runs)))
    w("")
    w("## Targets")
    w("")
    met = []
    for n, title, want in [(100, rows[0][4], 20), (20, rows[1][4], 1.6), (20, rows[2][4], 1.6)]:
        if (n, title) not in ratios:
            w("- (not measured: %s at N = %d)" % (title, n))
            continue
        ratio, b, o = ratios[(n, title)]
        met.append(ratio >= want)
        w("- **%s** N = %d, %s at least %gx faster: %.2fx (%s against %s)"
          % ("MET" if ratio >= want else "NOT MET", n, title, want, ratio, fmt_t(o.median),
             fmt_t(b.median)))
    bad = [e for e in data["results"] if e["exit"] != [0] and e["command"] != "-p status"]
    w("")
    w("- Every run exited 0: %s" % ("yes" if not bad else "NO: " + "; ".join(
        "N=%d %s %s %s" % (e["n"], e["side"], e["command"], e["exit"]) for e in bad)))
    w("")
    w("%d of %d targets met." % (sum(met), len(met)))
    print("\n".join(out))


def main():
    d = sys.argv[1]
    with open(os.path.join(d, "results.json")) as f:
        data = json.load(f)
    if data.get("extensions"):
        extensions_report(d, data)
        return
    stats, by_test = {}, {}
    for e in data["results"]:
        stats[(e["n"], e["command"], e["side"])] = Stat(e)
        by_test[(e["n"], e["test"], e["side"])] = Stat(e)
    ns = data["ns"]

    def get(n, cmd, side):
        return stats.get((n, cmd, side))

    def floor(n, cmd):
        """The floor of CMD at N, in seconds (None where there is none)."""
        def side(test, name):
            return by_test.get((n, test, name))
        if cmd in ("-l", "-l -j"):
            f = side("-l", "floor")
            return f.median if f else None
        if cmd in ("-x true", "-p status"):
            f, b, t = side(cmd, "floor"), side(cmd, "bash"), side(cmd, "true")
            if f and b and t:
                return f.median - b.median + t.median
        return None

    out = []
    w = out.append
    w("# postmulti benchmark: the real Postfix 3.11 postmulti against ours")
    w("")
    w("```")
    with open(os.path.join(d, "machine.txt")) as f:
        w(f.read().rstrip())
    w("```")
    w("")
    w("Times: median ±standard deviation (as %% of the median) of the timed runs, "
      "real and ours interleaved per repetition. Peak RSS: the largest of the "
      "process and its children (GNU time %%M; its floor, /bin/true, is %s). "
      "Processes: made per run (the command itself included)."
      % fmt_kib(max((s.rss for (n, c, side), s in stats.items() if side == "true" and s.rss),
                    default=None)))
    w("")
    w("| N | command | real | ours | real/ours | floor | peak RSS real | peak RSS ours | processes real / ours | runs |")
    w("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n in ns:
        for cmd in COMMANDS:
            r, o = get(n, cmd, "real"), get(n, cmd, "ours")
            if not r or not o:
                continue
            fl = floor(n, cmd)
            w("| %d | `%s` | %s | %s | %.1fx | %s | %s | %s | %s / %s | %d |" % (
                n, cmd, r.cell(), o.cell(), r.median / o.median, fmt_t(fl) if fl is not None else "-",
                fmt_kib(r.rss), fmt_kib(o.rss), procs_text(r.procs), procs_text(o.procs),
                min(r.n_runs, o.n_runs)))
    w("")
    w("Floors: `-l`/`-l -j`: `cat` of the primary's main.cf and every secondary's main.cf "
      "and master.cf (one process). `-x true`: N+1 fork+exec of /bin/true from a bash loop, "
      "less `bash -c :`, plus one start of /bin/true (postmulti's own start). `-p status`: "
      "`MAIL_CONFIG=dir postfix -- status` for each of the N+1 instances from a bash loop, "
      "less `bash -c :`, plus one start of /bin/true: the sum of the children and one "
      "process start.")
    w("")

    # ------------------------------------------------------------ CPU
    w("CPU time (mean user + system time of the command and its children, against the "
      "median wall time) of the commands whose work grows with N:")
    w("")
    w("| N | command | real CPU | real wall | ours CPU | ours wall |")
    w("|---:|---|---:|---:|---:|---:|")
    for n in ns:
        for cmd in ("-l", "-x true"):
            r, o = get(n, cmd, "real"), get(n, cmd, "ours")
            if r and o and r.cpu is not None:
                w("| %d | `%s` | %s | %s | %s | %s |" % (n, cmd, fmt_t(r.cpu), fmt_t(r.median),
                                                      fmt_t(o.cpu), fmt_t(o.median)))
    w("")

    # ------------------------------------------------------------ targets
    w("## Targets")
    w("")
    met_all = []

    def target(ok, text):
        met_all.append(ok)
        w("- **%s** %s" % ("MET" if ok else "NOT MET", text))

    def ratio_target(n, cmd, want):
        r, o = get(n, cmd, "real"), get(n, cmd, "ours")
        if not r or not o:
            w("- (not measured: `%s` at N = %d)" % (cmd, n))
            return
        ratio = r.median / o.median
        target(ratio >= want, "N = %d, `%s` at least %dx faster than real: %.1fx (real %s, ours %s)"
               % (n, cmd, want, ratio, fmt_t(r.median), fmt_t(o.median)))

    ratio_target(100, "-l", 50)
    ratio_target(100, "-x true", 5)
    ratio_target(1000, "-l", 100)
    for n in (0, 1):
        if n not in ns:
            w("- (not measured: N = %d)" % n)
            continue
        for cmd in COMMANDS:
            r, o = get(n, cmd, "real"), get(n, cmd, "ours")
            if not r or not o:
                continue
            ok = o.median <= r.median
            note = ""
            if not ok and o.median - r.median <= max(r.sd, o.sd):
                note = " (the difference is within the spread)"
            target(ok, "N = %d, `%s` not slower than real: ours %s, real %s (%.2fx)%s"
                   % (n, cmd, fmt_t(o.median), fmt_t(r.median), r.median / o.median, note))
    for n in ns:
        o, fl = get(n, "-p status", "ours"), floor(n, "-p status")
        if o and fl is not None:
            limit = fl + 0.001 * (n + 1)
            target(o.median <= limit,
                   "N = %d, `-p status` no slower than the sum of its children + 1 ms per instance "
                   "(%d instances): ours %s, children + one process start %s, limit %s"
                   % (n, n + 1, fmt_t(o.median), fmt_t(fl), fmt_t(limit)))
    for cmd in ("-e create", "-e destroy"):
        for n in ns:
            ratio_target(n, cmd, 10)
    # The every-installation issue: in-process on every installation.
    for n in (0, 100):
        if n in ns:
            ratio_target(n, "-e create", 100)
            ratio_target(n, "-e destroy", 50)
    for cmd in COMMANDS:
        worse = []
        cells = []
        for n in ns:
            r, o = get(n, cmd, "real"), get(n, cmd, "ours")
            if not r or not o or r.rss is None or o.rss is None:
                continue
            cells.append("N=%d %s/%s" % (n, fmt_kib(o.rss), fmt_kib(r.rss)))
            if o.rss > r.rss:
                worse.append("N = %d: ours %d KiB > real %d KiB%s" % (
                    n, o.rss, r.rss, " (within 1%: the same Postfix child is the peak in both)"
                    if o.rss <= r.rss * 1.01 and cmd in ("-e create", "-e destroy", "-p status") else ""))
        if cells:
            target(not worse, "`%s` peak memory no more than real's at every N (ours/real: %s)%s"
                   % (cmd, ", ".join(cells), ("; " + "; ".join(worse)) if worse else ""))
    w("")
    w("%d of %d targets met." % (sum(met_all), len(met_all)))
    w("")

    # ------------------------------------------------------------ checks
    w("## Checks")
    w("")
    differ = [c for c in data["checks"] if not c["identical"]]
    w("- Real and ours gave identical stdout, stderr and exit status for %s at every N: %s"
      % (", ".join("`%s`" % c for c in dict.fromkeys(c["command"] for c in data["checks"])),
         "yes" if not differ else "NO: " + "; ".join("N=%d %s" % (c["n"], c["command"]) for c in differ)))
    bad = [e for e in data["results"] if e["side"] in ("real", "ours")
           and e["command"].startswith("-e") and e["exit"] != [0]]
    w("- Every life-cycle command exited 0: %s"
      % ("yes" if not bad else "NO: " + "; ".join("N=%d %s %s %s" % (e["n"], e["side"], e["command"], e["exit"])
                                                  for e in bad)))
    for x in data.get("hyperfine", []):
        n = x["n"]
        r, o = get(n, "-l", "real"), get(n, "-l", "ours")
        w("- Timer cross-check, N = %d `-l`: hyperfine -N (back-to-back runs, by path) median real %s, "
          "ours %s; this driver (interleaved) real %s, ours %s"
          % (n, fmt_t(x["median"]["real"]), fmt_t(x["median"]["ours"]),
             fmt_t(r.median) if r else "-", fmt_t(o.median) if o else "-"))
    w("")

    # ------------------------------------------------------------ profile
    profiles = sorted(glob.glob(os.path.join(d, "profile", "*.self.txt")))
    if profiles:
        w("## Profile of ours (top items by own instructions)")
        w("")
        for p in profiles:
            with open(p, errors="replace") as f:
                text = f.read()
            total = re.search(r"^\s*([\d,]+) \(100\.0%\)\s+PROGRAM TOTALS", text, re.M)
            w("`%s`%s:" % (os.path.basename(p).replace(".self.txt", ""),
                           " (%s instructions)" % total.group(1) if total else ""))
            w("")
            w("```")
            # callgrind_annotate: "  639,100 (20.33%)  file:function [object]"
            rows = re.findall(r"^\s*[\d,]+ \(\s*([\d.]+)%\)\s+(\S.*)$", text, re.M)
            # perf report --stdio: "    20.33%  command  object  [.] function"
            rows = rows or re.findall(r"^\s+([\d.]+)%\s+(\S.*)$", text, re.M)
            for pct, name in [r for r in rows if "PROGRAM TOTALS" not in r[1]][:10]:
                w("%6s%%  %s" % (pct, name[:110]))
            w("```")
            w("")
    print("\n".join(out))


if __name__ == "__main__":
    main()
