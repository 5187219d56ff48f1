#!/usr/bin/env python3
"""OpenFHE (PyPI wheel `openfhe`) timings of the ops that `hetal-ckks`'s `ops_bench` example
measures, on the same shape: CKKS, N = 2^16, 128-bit classic, uniform ternary secret, hybrid key
switching with 5 digits, 25 Q towers (a 60-bit first prime and 40-bit scaling primes), manual
rescaling. Prints one JSON object per op, CPU seconds converted to ms (single thread, medians
of --reps runs), at the top level and at 10 Q towers.

    PY=$(bash /work/shared/tools/openfhe-venv.sh target/openfhe-venv)
    $PY tools/openfhe_ops.py --reps 3
"""
import argparse
import json
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
import numpy as np  # noqa: E402
import openfhe as o  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--reps", type=int, default=3)
args = ap.parse_args()

p = o.CCParamsCKKSRNS()
p.SetSecretKeyDist(o.UNIFORM_TERNARY)
p.SetSecurityLevel(o.HEStd_128_classic)
p.SetRingDim(1 << 16)
p.SetScalingModSize(40)
p.SetFirstModSize(60)
p.SetScalingTechnique(o.FIXEDMANUAL)
p.SetKeySwitchTechnique(o.HYBRID)
p.SetNumLargeDigits(5)
p.SetMultiplicativeDepth(24)
p.SetBatchSize(1 << 15)
cc = o.GenCryptoContext(p)
for f in (o.PKE, o.KEYSWITCH, o.LEVELEDSHE):
    cc.Enable(f)
STEPS = list(range(1, 9))


def cpu(f, reps=args.reps):
    ts, out = [], None
    for _ in range(reps):
        t = time.process_time()
        out = f()
        ts.append(time.process_time() - t)
    return float(np.median(ts)) * 1e3, out


def row(op, q_limbs, ms, **extra):
    d = {"lib": "openfhe", "version": o.__version__, "op": op, "log_n": 16,
         "q_limbs": q_limbs, "p_limbs": None, "threads": 1, "ms": round(ms, 3)}
    d.update(extra)
    print(json.dumps(d), flush=True)


kp = cc.KeyGen()
ms, _ = cpu(lambda: cc.EvalMultKeyGen(kp.secretKey), reps=1)
row("keygen_relin", 25, ms)
ms, _ = cpu(lambda: cc.EvalRotateKeyGen(kp.secretKey, [1]), reps=1)
row("keygen_rotation", 25, ms)
cc.EvalRotateKeyGen(kp.secretKey, STEPS)
has_conj = hasattr(cc, "EvalConjugate") and hasattr(cc, "EvalConjugateKeyGen")
if has_conj:
    cc.EvalConjugateKeyGen(kp.secretKey)

rng = np.random.default_rng(0)
x = rng.uniform(-1, 1, 1 << 15)
y = rng.uniform(-1, 1, 1 << 15)
for q_limbs in (25, 10):
    drop = 25 - q_limbs
    ptx = cc.MakeCKKSPackedPlaintext(x, 1, drop)
    pty = cc.MakeCKKSPackedPlaintext(y, 1, drop)
    ms, c1 = cpu(lambda: cc.Encrypt(kp.publicKey, ptx))
    row("encrypt", q_limbs, ms)
    c2 = cc.Encrypt(kp.publicKey, pty)
    ms, _ = cpu(lambda: cc.Decrypt(c1, kp.secretKey))
    row("decrypt", q_limbs, ms)
    ms, _ = cpu(lambda: cc.EvalAdd(c1, c2))
    row("add", q_limbs, ms)
    ms, m = cpu(lambda: cc.EvalMult(c1, c2))
    row("mul_relin", q_limbs, ms)
    ms, _ = cpu(lambda: cc.Rescale(m))
    row("rescale", q_limbs, ms)
    ms, _ = cpu(lambda: cc.EvalRotate(c1, 1))
    row("rotate", q_limbs, ms)

    def hoisted():
        pre = cc.EvalFastRotationPrecompute(c1)
        m = 2 * (1 << 16)
        return [cc.EvalFastRotation(c1, k, m, pre) for k in STEPS]

    ms, _ = cpu(hoisted)
    row("hoisted_rotations_8", q_limbs, ms)
    ms, _ = cpu(lambda: [cc.EvalRotate(c1, k) for k in STEPS])
    row("plain_rotations_8", q_limbs, ms)
    if has_conj:
        ms, _ = cpu(lambda: cc.EvalConjugate(c1))
        row("conjugate", q_limbs, ms)
