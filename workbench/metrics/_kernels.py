"""numba kernels for the metrics analyses: Doctor's interval guess (O(n^2) scan with Welford
statistics and Welch t-tests), the Student-t CDF it needs, and the forward/backward/Viterbi passes
of the 2-state Gaussian HMM of Doctor's CPU analysis. Inputs are validated float64 arrays."""
from __future__ import annotations

import math

import numpy as np
from .._jit import njit


@njit(cache=True)
def _betacf(a, b, x):
    # Lentz's continued fraction for the regularised incomplete beta function
    fpmin = 1e-300
    qab = a + b
    qap = a + 1.0
    qam = a - 1.0
    c = 1.0
    d = 1.0 - qab * x / qap
    if abs(d) < fpmin:
        d = fpmin
    d = 1.0 / d
    h = d
    for m in range(1, 300):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        if abs(d) < fpmin:
            d = fpmin
        c = 1.0 + aa / c
        if abs(c) < fpmin:
            c = fpmin
        d = 1.0 / d
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        if abs(d) < fpmin:
            d = fpmin
        c = 1.0 + aa / c
        if abs(c) < fpmin:
            c = fpmin
        d = 1.0 / d
        de = d * c
        h *= de
        if abs(de - 1.0) < 1e-15:
            break
    return h


@njit(cache=True)
def betainc(a, b, x):
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    lbt = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log(1.0 - x)
    bt = math.exp(lbt)
    if x < (a + 1.0) / (a + b + 2.0):
        return bt * _betacf(a, b, x) / a
    return 1.0 - bt * _betacf(b, a, 1.0 - x) / b


@njit(cache=True)
def t_cdf(t, df):
    if math.isnan(t) or math.isnan(df) or df <= 0:
        return math.nan
    if math.isinf(t):
        return 1.0 if t > 0 else 0.0
    x = df / (df + t * t)
    tail = 0.5 * betainc(df / 2.0, 0.5, x)
    return tail if t < 0 else 1.0 - tail


@njit(cache=True)
def _less_than(ln, lm, ls, rn, rm, rs):
    """Doctor's statisticallyLessThan(left, right) (analysis/guess-interval.js) on Welford stats."""
    atol = 1e-9
    mindiff = 1.0
    lv = ls / (ln - 1) if ln >= 2 else math.nan
    rv = rs / (rn - 1) if rn >= 2 else math.nan
    if lv < atol or rv < atol or math.isnan(lv) or math.isnan(rv):
        return lm + mindiff < rm
    lse = lv / ln
    rse = rv / rn
    common = lse + rse
    df = common * common / (lse * lse / (ln - 1) + rse * rse / (rn - 1))
    t = (lm - rm - (-mindiff)) / math.sqrt(common)
    p = t_cdf(t, df)
    return not (p >= 0.01)


@njit(cache=True)
def guess_interval(handles):
    """[left, right) slice of the benchmark interval before trimming (Doctor's brute-force scan)."""
    n = handles.shape[0]
    atol = 1e-9
    bias = 0.25
    # middle := everything
    mn, mm, ms = 0, 0.0, 0.0
    for i in range(n):
        x = handles[i]
        mn += 1
        d1 = x - mm
        mm += d1 / mn
        ms += d1 * (x - mm)
    best = ms
    best_l = 0
    best_r = n
    ln, lm, ls = 0, 0.0, 0.0
    for left in range(-1, n - 1):
        if left >= 0:
            x = handles[left]
            ln += 1
            d1 = x - lm
            lm += d1 / ln
            ls += d1 * (x - lm)
            mn -= 1
            d2 = x - mm
            mm -= d2 / mn
            ms -= d2 * (x - mm)
        rn, rm, rs = 0, 0.0, 0.0
        sn, sm, ss = mn, mm, ms
        for right in range(n, left + 1, -1):
            if right < n:
                x = handles[right]
                rn += 1
                d1 = x - rm
                rm += d1 / rn
                rs += d1 * (x - rm)
                mn -= 1
                d2 = x - mm
                mm -= d2 / mn
                ms -= d2 * (x - mm)
            total = ls + bias * ms + rs
            if mn >= 2 and best > total + atol:
                if _less_than(ln, lm, ls, mn, mm, ms) and _less_than(rn, rm, rs, mn, mm, ms):
                    best = total
                    best_l = left + 1
                    best_r = right
        mn, mm, ms = sn, sm, ss
    return best_l, best_r


@njit(cache=True)
def hmm_forward_backward(pdf, pi, A):
    """Scaled forward/backward (hidden-markov-model-tf lib/hmm.js _forward/_backward) for one sequence.
    pdf: (T, S). Returns alpha_hat (T,S), beta_hat (T,S), c (T,)."""
    T, S = pdf.shape
    alpha = np.empty((T, S))
    c = np.empty(T)
    s = 0.0
    for j in range(S):
        alpha[0, j] = pi[j] * pdf[0, j]
        s += alpha[0, j]
    c[0] = s
    for j in range(S):
        alpha[0, j] /= s
    for t in range(1, T):
        s = 0.0
        for j in range(S):
            acc = 0.0
            for i in range(S):
                acc += alpha[t - 1, i] * A[i, j]
            alpha[t, j] = pdf[t, j] * acc
            s += alpha[t, j]
        c[t] = s
        for j in range(S):
            alpha[t, j] /= s
    beta = np.empty((T, S))
    for j in range(S):
        beta[T - 1, j] = 1.0
    for t in range(T - 2, -1, -1):
        for i in range(S):
            acc = 0.0
            for j in range(S):
                acc += beta[t + 1, j] * pdf[t + 1, j] * A[i, j]
            beta[t, i] = acc / c[t + 1]
    return alpha, beta, c


@njit(cache=True)
def viterbi(pdf, pi, A):
    T, S = pdf.shape
    w = np.empty((T, S))
    arg = np.zeros((T, S), np.int64)
    for j in range(S):
        w[0, j] = math.log(pi[j]) + math.log(pdf[0, j])
    for t in range(1, T):
        for j in range(S):
            best = -math.inf
            bi = 0
            for i in range(S):
                v = math.log(A[i, j]) + w[t - 1, i]
                if v > best:
                    best = v
                    bi = i
            w[t, j] = math.log(pdf[t, j]) + best
            arg[t, j] = bi
    states = np.empty(T, np.int64)
    bj = 0
    for j in range(1, S):
        if w[T - 1, j] > w[T - 1, bj]:
            bj = j
    states[T - 1] = bj
    for t in range(T - 2, -1, -1):
        states[t] = arg[t + 1, states[t + 1]]
    return states
