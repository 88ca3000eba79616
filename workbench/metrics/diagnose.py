"""diagnose(): Clinic.js Doctor's verdict (event loop, GC, I/O) on a Doctor recording — the same
rules, on the same data — with the evidence behind each signal.

Port of @clinic/doctor 11.0.0 analysis/*.js (read from .peers/doctor/node_modules/@clinic/doctor):

* interval (guess-interval.js): split the handles curve into three flat parts by brute-force piecewise
  least squares (middle SSE weighted by 0.25, a Welch t-test at alpha 0.01 with mu = -1 that both
  outer parts lie below the middle), then trim up to 100 ms from each end. Only samples in that
  interval, and GC trace events wholly inside it, are analysed. Fewer than 2 samples: every signal
  is ``data``. Given ``m.window(...)`` (e.g. a timeline brush) the window replaces the guess.
* delay (analyse-delay.js): issue if median(delay) >= 10 ms or max(delay) >= 100 ms.
* loopUtilization: issue if median(ELU%) >= 95.
* cpu (analyse-cpu.js): < 4 samples -> data. Fit a 2-state 1-D Gaussian HMM (k-means init, Baum-Welch
  to tolerance 0.001, max 100 iterations; not converged to 0.01 -> data), Viterbi states; if a state
  has <= 1 sample or the bimodal separation |dmean / (2 (sd0 + sd1))| < 1, use all samples, else the
  lower-mean state; issue if its 90% quantile < 0.9 (CPU under-used: waiting on I/O).
  hidden-markov-model-tf runs in float32 with a seeded k-means++; this port runs in float64 from a
  deterministic min/max k-means start, which finds the same 1-D partition on these data.
* memory (analyse-memory.js): blocking GC trace events (V8.GCScavenger = new space;
  V8.GCFinalizeMC, V8.GCIncrementalMarkingFinalize = old space; + V8.GCIncrementalMarking on Node < 8)
  in 1-second windows (round(mid-time / 1000)); none -> heapTotal/heapUsed ``data``. If the largest
  per-window blocked time >= 100 ms: heapTotal when old-space time >= new-space time, else heapUsed.
  rss and external are never flagged.
* handles (analyse-handles.js): on nonzero first differences, a sign-change binomial test
  (alpha 1e-7) or the Mira skewness test (alpha 1e-10).
* category (issue-category.js): data / gc / event-loop / io / none / unknown, exactly as Doctor.

Quantiles are summary@2's ``quartile`` (not interpolated), variance is n-1, as in Doctor.
Without a Doctor recording the same rules run on the closest signals the run has (documented in the
``basis`` field): event-loop delay (median rule on per-window p50, max rule on per-window max, both
minus the histogram resolution, estimated as the smallest window minimum), per-window ELU, CPU from
process_cpu_seconds_total, GC pauses from a --trace-gc log (Scavenge = new space, Mark-Compact =
old space) and nodejs_active_handles_total — an approximation, flagged as such.
"""
from __future__ import annotations

import math

import numpy as np
import polars as pl

from ..errors import UsageError
from . import _kernels as K

BLOCK_NEW = ("V8.GCScavenger",)
BLOCK_OLD = ("V8.GCFinalizeMC", "V8.GCIncrementalMarkingFinalize")
CATEGORIES = ("none", "event-loop", "gc", "io", "data", "unknown")


# ---- summary@2 semantics -----------------------------------------------------------------------
def quartile(x: np.ndarray, prob: float) -> float:
    if len(x) == 0:
        return math.nan
    d = np.sort(x)
    product = prob * len(d)
    ceil = math.ceil(product)
    if ceil == product:
        if ceil == 0:
            return float(d[0])
        if ceil == len(d):
            return float(d[-1])
        return float((d[ceil - 1] + d[ceil]) / 2)
    return float(d[ceil - 1])


def _sd(x):
    return float(np.std(x, ddof=1)) if len(x) > 1 else math.nan


def _ge(a, b):
    return (not math.isnan(a)) and a >= b


# ---- the signals ---------------------------------------------------------------------------------
def guess_interval(timestamps: np.ndarray, handles: np.ndarray) -> tuple[int, int]:
    n = len(handles)
    if n == 0:
        return 0, 0
    left, right = K.guess_interval(np.ascontiguousarray(handles, dtype=np.float64))
    trim = 100.0
    lt = timestamps[left]
    for i in range(left, right):
        if timestamps[i] - lt >= trim:
            break
        left = i
    rt = timestamps[right - 1]
    i = right
    while i >= left:
        if rt - timestamps[i - 1] >= trim:
            break
        right = i
        i -= 1
    return left, right


def analyse_delay(delay: np.ndarray) -> tuple[str, dict]:
    med, mx = quartile(delay, 0.5), (float(delay.max()) if len(delay) else math.nan)
    issue = _ge(med, 10) or _ge(mx, 100)
    return ("performance" if issue else "none"), {"median_ms": med, "max_ms": mx,
                                                   "rule": "median >= 10 ms or max >= 100 ms"}


def analyse_elu(elu_percent: np.ndarray) -> tuple[str, dict]:
    x = elu_percent[~np.isnan(elu_percent)]
    med = quartile(x, 0.5) if len(x) == len(elu_percent) else math.nan
    return ("performance" if _ge(med, 95) else "none"), {"median_percent": med, "rule": "median >= 95 %"}


def _kmeans2(x: np.ndarray) -> np.ndarray:
    c = np.array([x.min(), x.max()], dtype=np.float64)
    lab = np.zeros(len(x), np.int64)
    for _ in range(100):
        lab = (np.abs(x - c[1]) < np.abs(x - c[0])).astype(np.int64)
        new = np.array([x[lab == k].mean() if (lab == k).any() else c[k] for k in (0, 1)])
        if np.max(np.abs(new - c)) < 1e-3:
            c = new
            break
        c = new
    return lab


def fit_hmm(x: np.ndarray, max_iter: int = 100, tol: float = 1e-3):
    """2-state Gaussian HMM as hidden-markov-model-tf 4.0.0 fits it; returns (states, tolerance)."""
    lab = _kmeans2(x)
    S = 2
    mu = np.empty(S)
    sigma = np.empty(S)
    for s in range(S):
        g = x[lab == s]
        src = g if len(g) > 1 else x
        mu[s] = g.mean() if len(g) else x.mean()
        sigma[s] = (np.var(src, ddof=1) if len(src) > 1 else 0.0) + 1e-6
    A = np.full((S, S), 0.5)
    pi = np.full(S, 0.5)

    def pdf_of(mu, sigma):
        sg = np.maximum(sigma, 1e-16)
        return (2 * np.pi) ** -0.5 * sg ** -0.5 * np.exp(-0.5 * (x[:, None] - mu[None, :]) ** 2 / sg[None, :])

    diff = math.inf
    for _ in range(max_iter):
        pdf = pdf_of(mu, sigma)
        alpha, beta, c = K.hmm_forward_backward(pdf, pi, A)
        gamma = alpha * beta
        xi = (alpha[:-1, :, None] / c[1:, None, None]) * pdf[1:, None, :] * A[None] * beta[1:, None, :]
        new_pi = gamma[0] / gamma[0].sum()
        sx = xi.sum(0)
        new_A = sx / sx.sum(1, keepdims=True)
        g = gamma.sum(0)
        new_mu = (gamma * x[:, None]).sum(0) / g
        new_sigma = (gamma * (x[:, None] - mu[None, :]) ** 2).sum(0) / g   # old mu, as in lib/hmm.js
        new = [np.nan_to_num(v, nan=1.0) for v in (new_pi, new_A, new_mu, new_sigma)]
        diff = max(float(np.max(np.abs(a - b))) for a, b in zip(new, (pi, A, mu, sigma)))
        pi, A, mu, sigma = new
        if diff < tol:
            break
    states = K.viterbi(pdf_of(mu, sigma), pi, A)
    return states, diff


def analyse_cpu(cpu: np.ndarray) -> tuple[str, dict]:
    if len(cpu) < 4:
        return "data", {"samples": len(cpu), "rule": "needs >= 4 samples"}
    states, tol = fit_hmm(cpu.astype(np.float64))
    ev = {"hmm_tolerance": tol}
    if tol >= 0.01:
        return "data", dict(ev, rule="HMM did not converge to 0.01")
    g0, g1 = cpu[states == 0], cpu[states == 1]
    p90_all = quartile(cpu, 0.9)
    if len(g0) <= 1 or len(g1) <= 1:
        return ("performance" if p90_all < 0.9 else "none"), dict(ev, p90=p90_all, mode="single state")
    sep = (g0.mean() - g1.mean()) / (2 * (_sd(g0) + _sd(g1)))
    ev.update(separation=float(sep), state_means=[float(g0.mean()), float(g1.mean())],
              state_sizes=[len(g0), len(g1)])
    if abs(sep) < 1:
        return ("performance" if p90_all < 0.9 else "none"), dict(ev, p90=p90_all, mode="one mode (separation < 1)",
                                                                rule="p90(cpu) < 0.9")
    app = g0 if g0.mean() < g1.mean() else g1
    p90 = quartile(app, 0.9)
    return ("performance" if p90 < 0.9 else "none"), dict(ev, p90=p90, mode="application state (lower mean)",
                                                        rule="p90(cpu of application state) < 0.9")


def analyse_memory(start_ms: np.ndarray, end_ms: np.ndarray, is_new: np.ndarray) -> tuple[dict, dict]:
    if len(start_ms) == 0:
        return ({"external": "none", "rss": "none", "heapTotal": "data", "heapUsed": "data"},
                {"blocking_gc_events": 0})
    win = np.floor(0.5 / 1000 * (end_ms + start_ms) + 0.5).astype(np.int64)   # Math.round
    dur = end_ms - start_ms
    w0 = win.min()
    idx = win - w0
    nwin = int(idx.max()) + 1
    tot = np.bincount(idx, weights=dur, minlength=nwin)
    new = np.bincount(idx, weights=np.where(is_new, dur, 0.0), minlength=nwin)
    old = np.bincount(idx, weights=np.where(is_new, 0.0, dur), minlength=nwin)
    mx, mxn, mxo = tot.max(), new.max(), old.max()
    worst = int(np.argmax(tot))
    issue = mx >= 100
    res = {"external": "none", "rss": "none",
           "heapTotal": "performance" if issue and mxo >= mxn else "none",
           "heapUsed": "performance" if issue and mxo < mxn else "none"}
    ev = {"blocking_gc_events": int(len(start_ms)), "max_blocked_ms_per_1s": float(mx),
          "max_blocked_new_space_ms": float(mxn), "max_blocked_old_space_ms": float(mxo),
          "worst_window_unix_s": int(w0 + worst), "rule": ">= 100 ms of blocking GC in a 1 s window"}
    return res, ev


def _binom_cdf(k: int, n: int) -> float:
    # P(X <= k), X ~ Binomial(n, 0.5)
    if k < 0:
        return 0.0
    if k >= n:
        return 1.0
    return 1.0 - K.betainc(k + 1.0, float(n - k), 0.5)


def analyse_handles(handles: np.ndarray) -> tuple[str, dict]:
    if len(handles) < 2:
        return "data", {"samples": len(handles)}
    if _sd(handles) == 0:
        return "none", {"sd": 0.0}
    d = np.diff(handles)
    noise = d[d != 0]
    sign_changes = int(np.count_nonzero(np.diff(np.sign(noise))))
    sign_p = _binom_cdf(sign_changes, len(noise))
    n = len(handles)
    med = quartile(handles, 0.5)
    bonf = 2 * (handles.mean() - med)
    mad = np.abs(handles - med).mean()
    dinv = (n ** 0.2 / (2 * 0.5)) * (quartile(handles, 0.5 + 0.5 * n ** -0.2) -
                                      quartile(handles, 0.5 - 0.5 * n ** -0.2 + 1 / n))
    var_b = 4 * np.var(handles, ddof=1) + dinv * dinv - 4 * dinv * mad
    z = math.sqrt(n) * bonf / math.sqrt(var_b) if var_b > 0 else (math.inf if bonf else math.nan)
    mira_p = 2 * (1 - 0.5 * math.erfc(-abs(z) / math.sqrt(2))) if not math.isnan(z) else math.nan
    issue = sign_p < 1e-7 or (not math.isnan(mira_p) and mira_p < 1e-10)
    return ("performance" if issue else "none"), {"sign_change_pvalue": sign_p, "mira_pvalue": mira_p,
                                                  "rule": "sign test p < 1e-7 or Mira skewness p < 1e-10"}


def issue_category(issues: dict) -> str:
    perf = lambda v: v == "performance"   # noqa: E731
    data = lambda v: v == "data"          # noqa: E731
    mem = issues["memory"]
    mem_issue = "data" if any(data(v) for v in mem.values()) else (
        "performance" if any(perf(v) for v in mem.values()) else "none")
    cpu, handles, delay, elu = issues["cpu"], issues["handles"], issues["delay"], issues["loopUtilization"]
    if data(mem_issue) or data(cpu) or data(handles) or data(delay):
        return "data"
    if perf(mem_issue) and not perf(cpu) and not perf(handles):
        return "gc"
    if not perf(mem_issue) and (perf(delay) or perf(elu)) and not perf(cpu) and not perf(handles):
        return "event-loop"
    if not perf(mem_issue) and not perf(delay) and (perf(cpu) or perf(handles)):
        return "io"
    if not perf(mem_issue) and not perf(delay) and not perf(cpu) and not perf(handles):
        return "none"
    return "unknown"


# ---- entry point -----------------------------------------------------------------------------------
def _signals_from_doctor(d: dict):
    ps = d["process_stat"]
    te = d["trace_events"]
    node_major = int(str(d["system_info"]["nodeVersion"]).lstrip("v").split(".")[0])
    old = BLOCK_OLD + (("V8.GCIncrementalMarking",) if node_major < 8 else ())
    return ps, te, old, "clinic doctor recording"


def _signals_from_other(m, run):
    """Doctor-shaped samples from prom/eventloop/gc-log sources (an approximation)."""
    def q(name):
        return m.series(name, run=run).sort("ts")
    handles = q("handles")
    delay_p50 = q("event_loop_delay_p50")
    if handles.is_empty() and delay_p50.is_empty():
        raise UsageError(f"run {run!r}: no Doctor recording and no handles/event-loop series to diagnose")
    base = (handles if not handles.is_empty() else delay_p50).select("ts").unique().sort("ts")

    def on_base(frame, col):
        if frame.is_empty():
            return base.with_columns(pl.lit(None, pl.Float64).alias(col))
        f = frame.group_by("ts").agg(pl.col("value").mean().alias(col)).sort("ts")
        return base.join_asof(f, on="ts", strategy="nearest")
    cpu_tot = q("cpu_seconds_total")
    cpu = (cpu_tot.group_by("ts").agg(pl.col("value").first()).sort("ts")
           .with_columns(value=pl.col("value").diff() / (pl.col("ts").diff().dt.total_microseconds() / 1000.0)))
    # monitorEventLoopDelay records whole timer intervals, so an idle loop reads ~resolution; Doctor's
    # delay is elapsed - interval. The smallest window minimum estimates the resolution.
    mins = q("event_loop_delay_min")["value"].drop_nans().drop_nulls()
    res = float(mins.min()) if len(mins) and mins.min() < 50 else 0.0
    ps = base
    for frame, col in ((handles, "handles"), (delay_p50, "delay"), (q("event_loop_delay_max"), "delay_max"),
                       (cpu, "cpu"), (q("event_loop_utilization"), "loopUtilization")):
        ps = ps.join(on_base(frame, col), on="ts")
    ps = ps.with_columns(timestamp=pl.col("ts").dt.epoch("us") / 1000.0,
                         delay=(pl.col("delay") - res).clip(lower_bound=0),
                         delay_max=(pl.col("delay_max") - res).clip(lower_bound=0),
                         loopUtilization=pl.col("loopUtilization") * 100)
    gc = m.gc_events.filter((pl.col("run") == run) & pl.col("pause_ms").is_not_null() & ~pl.col("type").str.starts_with("V8."))
    t0 = gc["ts"].dt.epoch("us").cast(pl.Float64) / 1000.0 if len(gc) else pl.Series([], dtype=pl.Float64)
    te = pl.DataFrame({"name": [BLOCK_NEW[0] if k == "minor" else BLOCK_OLD[0] for k in gc["kind"]],
                       "start_ms": t0, "end_ms": t0 + gc["pause_ms"]},
                      schema={"name": pl.Utf8, "start_ms": pl.Float64, "end_ms": pl.Float64})
    return ps, te, BLOCK_OLD, "approximation from metric exports (no Doctor recording)"


def diagnose(m, run: str | None = None) -> dict:
    """Doctor's verdict for one run: {"category", "issues", "evidence", "interval", "basis", "run"}."""
    runs = m.runs if run is None else [run]
    with_doctor = [r for r in runs if r in m.doctor]
    if run is None:
        if len(with_doctor) == 1 or (len(runs) == 1):
            run = with_doctor[0] if with_doctor else runs[0]
        else:
            raise UsageError(f"several runs loaded ({', '.join(runs)}): choose one with run= (CLI: --run)")
    if run in m.doctor:
        ps, te, old_names, basis = _signals_from_doctor(m.doctor[run])
    else:
        ps, te, old_names, basis = _signals_from_other(m, run)
    ts = ps["timestamp"].to_numpy().astype(np.float64)
    handles = ps["handles"].fill_null(0).to_numpy().astype(np.float64)
    if m.window_range is not None:
        lo, hi = 0, len(ps)
        interval = [float(ts[0]), float(ts[-1])] if len(ts) else [None, None]
        how = "window"
    else:
        lo, hi = guess_interval(ts, handles) if len(ps) >= 2 else (0, len(ps))
        interval = [float(ts[lo]), float(ts[hi - 1])] if len(ps) >= 2 else [-math.inf, math.inf]
        how = "guessed from the handles curve (Doctor guess-interval)"
    if len(ps) < 2:
        issues = {"delay": "data", "cpu": "data", "memory": {"external": "data", "rss": "data", "heapTotal": "data",
                  "heapUsed": "data"}, "handles": "data", "loopUtilization": "data"}
        return {"run": run, "basis": basis, "category": "data", "issues": issues,
                "evidence": {"samples": len(ps)}, "interval": {"unix_ms": interval, "how": how}}
    sub = ps.slice(lo, hi - lo)
    ev_sub = te.filter((pl.col("start_ms") >= interval[0]) & (pl.col("end_ms") <= interval[1]))
    blocking = ev_sub.filter(pl.col("name").is_in(BLOCK_NEW + tuple(old_names)))
    delay_issue, delay_ev = analyse_delay(sub["delay"].drop_nulls().to_numpy())
    if "delay_max" in sub.columns:   # windowed exports: median rule on p50s, max rule on window maxima
        mx = sub["delay_max"].drop_nulls().to_numpy()
        if len(mx):
            delay_ev["max_ms"] = float(mx.max())
            if mx.max() >= 100:
                delay_issue = "performance"
    cpu_issue, cpu_ev = analyse_cpu(sub["cpu"].drop_nulls().to_numpy())
    mem_issue, mem_ev = analyse_memory(blocking["start_ms"].to_numpy(), blocking["end_ms"].to_numpy(),
                                       blocking["name"].is_in(BLOCK_NEW).to_numpy())
    h_issue, h_ev = analyse_handles(sub["handles"].drop_nulls().to_numpy().astype(np.float64))
    elu_issue, elu_ev = analyse_elu(sub["loopUtilization"].cast(pl.Float64).fill_null(float("nan")).to_numpy())
    # evidence windows: where the delay was >= 100 ms (the samples that trip the max rule)
    hot = sub.filter(pl.col("delay") >= 100).select("timestamp", "delay")
    delay_ev["windows"] = [{"unix_ms": float(t), "delay_ms": float(d)} for t, d in hot.head(20).iter_rows()]
    delay_ev["samples_over_100ms"] = len(hot)
    issues = {"delay": delay_issue, "cpu": cpu_issue, "memory": mem_issue, "handles": h_issue,
              "loopUtilization": elu_issue}
    return {"run": run, "basis": basis, "category": issue_category(issues), "issues": issues,
            "evidence": {"delay": delay_ev, "cpu": cpu_ev, "memory": mem_ev, "handles": h_ev,
                         "loopUtilization": elu_ev, "samples": len(sub)},
            "interval": {"unix_ms": interval, "index": [lo, hi], "how": how}}
