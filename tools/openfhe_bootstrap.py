#!/usr/bin/env python3
"""OpenFHE (PyPI wheel `openfhe`) CKKS bootstrapping, timed the way `hetal-ckks`'s
`bootstrap_bench` example times ours, for a side-by-side comparison in one run: N = 2^16, full
slots (2^15), 128-bit classic security, uniform ternary secret (OpenFHE's default; or its
sparse-secret encapsulation), level budget {3, 3} for CoeffsToSlots / SlotsToCoeffs, FLEXIBLEAUTO
scaling, a 60-bit first prime and 55-bit scaling primes, 5 key-switching digits (OpenFHE's
example uses 59-bit primes and 3 digits, which push log QP over the 128-bit bound at N = 2^16
with 4 levels left). Prints one JSON object: key generation and bootstrapping CPU seconds
(single thread, median of --reps bootstraps), precision in bits (average and minimum over all
slots of -log2 |error|, inputs uniform in [-1, 1]), the levels left after bootstrapping (as
OpenFHE counts them), and the peak resident memory.

    PY=$(bash /work/shared/tools/openfhe-venv.sh target/openfhe-venv)
    $PY tools/openfhe_bootstrap.py [--reps 3] [--iterations 2] [--levels-after 4] [--log-n 16]
        [--secret uniform_ternary|sparse_encapsulated]

`--iterations 2` is OpenFHE's iterated (meta-) bootstrapping; `--log-n` below 16 drops the
security level to HEStd_NotSet (a smoke run only).
"""
import argparse
import json
import os
import resource
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
import numpy as np  # noqa: E402
import openfhe as o  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--reps", type=int, default=3)
ap.add_argument("--iterations", type=int, default=1, choices=(1, 2))
ap.add_argument("--levels-after", type=int, default=4)
ap.add_argument("--log-n", type=int, default=16)
ap.add_argument("--dnum", type=int, default=5,
                help="key-switching digits; OpenFHE's default (3) makes P too large for N = 2^16")
ap.add_argument("--scale-bits", type=int, default=55,
                help="59 (OpenFHE's example) does not fit the 128-bit bound at N = 2^16 with 4 levels left")
ap.add_argument("--secret", default="uniform_ternary",
                choices=("uniform_ternary", "sparse_encapsulated"))
args = ap.parse_args()

n_ring = 1 << args.log_n
slots = n_ring // 2
budget = [3, 3]
secret = {"uniform_ternary": o.UNIFORM_TERNARY,
          "sparse_encapsulated": o.SPARSE_ENCAPSULATED}[args.secret]

p = o.CCParamsCKKSRNS()
p.SetSecretKeyDist(secret)
p.SetSecurityLevel(o.HEStd_128_classic if args.log_n >= 16 else o.HEStd_NotSet)
p.SetRingDim(n_ring)
p.SetScalingTechnique(o.FLEXIBLEAUTO)
p.SetScalingModSize(args.scale_bits)
p.SetFirstModSize(60)
p.SetKeySwitchTechnique(o.HYBRID)
p.SetNumLargeDigits(args.dnum)
p.SetBatchSize(slots)
# Iterated bootstrapping needs one more level (OpenFHE's documented recipe).
extra = 1 if args.iterations == 2 else 0
depth = args.levels_after + extra + o.CryptoContext.GetBootstrapDepth(budget, secret)
p.SetMultiplicativeDepth(depth)
cc = o.GenCryptoContext(p)
for f in (o.PKE, o.KEYSWITCH, o.LEVELEDSHE, o.ADVANCEDSHE, o.FHE):
    cc.Enable(f)

t = time.process_time()
cc.EvalBootstrapSetup(budget, [0, 0], slots)
kp = cc.KeyGen()
cc.EvalMultKeyGen(kp.secretKey)
cc.EvalBootstrapKeyGen(kp.secretKey, slots)
keygen_s = time.process_time() - t

rng = np.random.default_rng(1)
x = rng.uniform(-1.0, 1.0, slots)
# Encrypt at the last level, as a ciphertext that needs refreshing would be.
pt = cc.MakeCKKSPackedPlaintext(x.tolist(), 1, depth - 1)
pt.SetLength(slots)
ct = cc.Encrypt(kp.publicKey, pt)

times, out = [], None
for _ in range(args.reps):
    t = time.process_time()
    if args.iterations == 2:
        # OpenFHE's iterated bootstrapping takes the precision of one bootstrap (bits) as a hint.
        out = cc.EvalBootstrap(ct, 2, 17)
    else:
        out = cc.EvalBootstrap(ct)
    times.append(time.process_time() - t)

dec = cc.Decrypt(out, kp.secretKey)
dec.SetLength(slots)
got = np.array([z.real for z in dec.GetCKKSPackedValue()])
err = np.maximum(np.abs(got - x), 2.0**-60)
bits = -np.log2(err)
print(json.dumps({
    "lib": "openfhe", "version": o.__version__, "log_n": args.log_n, "slots": slots,
    "secret": args.secret, "level_budget": budget, "iterations": args.iterations,
    "dnum": args.dnum, "scale_bits": args.scale_bits, "threads": 1, "keygen_s": round(keygen_s, 3), "boot_s": round(float(np.median(times)), 3),
    "precision_bits_avg": round(float(bits.mean()), 2),
    "precision_bits_min": round(float(bits.min()), 2),
    "levels_left": depth - out.GetLevel(), "ring_dim": cc.GetRingDimension(),
    "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1),
}), flush=True)
