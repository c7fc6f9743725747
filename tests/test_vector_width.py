"""``OPTSIM_VECTOR_WIDTH``: the compiler's flags it sets, its bad values, and the same numbers
to the bit under each setting (the kernels compiled afresh in a child process with 512-bit
vectors against the same kernels compiled with the compiler's own choice)."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from optsim import _vector_width as vw

HOST = "+avx2,+avx512f,+fma,-prefer-256-bit,+sse4.2"
x86 = pytest.mark.skipif(not vw._x86(), reason="the setting does nothing on other processors than x86")


def test_features_turn_the_tuning_flag_off_or_on_and_keep_the_rest():
    assert vw.features("auto", HOST) is None
    assert vw.features("512", HOST) == "+avx2,+avx512f,+fma,+sse4.2,-prefer-256-bit"
    assert vw.features("256", HOST) == "+avx2,+avx512f,+fma,+sse4.2,+prefer-256-bit"
    assert vw.features("512", "+sse2") == "+sse2,-prefer-256-bit"


def _env(tmp_path, **extra):
    env = {k: v for k, v in os.environ.items() if k not in ("OPTSIM_VECTOR_WIDTH", "NUMBA_CPU_FEATURES")}
    env.update(OPTSIM_CACHE_DIR=str(tmp_path / "optsim"), NUMBA_CACHE_DIR=str(tmp_path / "numba"), **extra)
    return env


def _child(code, env, *args, timeout=600):
    """Run ``code`` in a new interpreter with ``env`` and ``args`` as its ``sys.argv[1:]``."""
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code), *map(str, args)], capture_output=True,
                          text=True, env=env, timeout=timeout)


_FLAGS = """
    import json, os, numba
    import optsim
    print(json.dumps([os.environ.get("NUMBA_CPU_FEATURES"), numba.config.CPU_FEATURES]))
"""


@x86
@pytest.mark.parametrize("value,flag", [("512", "-prefer-256-bit"), ("256", "+prefer-256-bit"), ("auto", None),
                                        (" 512 ", "-prefer-256-bit")])
def test_importing_optsim_sets_numbas_cpu_features(tmp_path, value, flag):
    r = _child(_FLAGS, _env(tmp_path, OPTSIM_VECTOR_WIDTH=value))
    assert r.returncode == 0, r.stderr
    env_flags, config_flags = json.loads(r.stdout.splitlines()[-1])
    if flag is None:
        assert env_flags is None and config_flags is None
    else:
        assert env_flags == config_flags and env_flags.endswith("," + flag)
        assert env_flags.count("prefer-256-bit") == 1


def test_features_set_by_hand_are_left_alone(tmp_path):
    r = _child(_FLAGS, _env(tmp_path, OPTSIM_VECTOR_WIDTH="512", NUMBA_CPU_FEATURES="+sse2"))
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout.splitlines()[-1]) == ["+sse2", "+sse2"]


def test_a_bad_value_is_a_one_line_error_at_import(tmp_path):
    r = _child("import optsim", _env(tmp_path, OPTSIM_VECTOR_WIDTH="1024"))
    assert r.returncode != 0
    assert r.stderr.strip().splitlines()[-1] == ("ValueError: OPTSIM_VECTOR_WIDTH='1024' is not a vector width: "
                                                 "give one of 'auto', '512', '256'")


@x86
def test_too_late_after_numba_has_compiled_says_so(tmp_path):
    code = """
        import os, warnings, numba, numpy as np
        numba.njit(lambda a: a + 1.0)(np.ones(2))  # numba's compiler is set up
        os.environ["OPTSIM_VECTOR_WIDTH"] = "512"
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            import optsim
        print(len(w), w[0].message if w else "", os.environ.get("NUMBA_CPU_FEATURES"))
    """
    r = _child(code, _env(tmp_path))
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("1 OPTSIM_VECTOR_WIDTH=512 has no effect") and r.stdout.strip().endswith("None")


# The MLP's passes (portable tanh, ReLU, odd widths, biases or not), Adam's update and the
# ziggurat's normals, compiled in a child process with an empty cache.
_KERNELS = """
    import sys, numpy as np
    import optsim, llvmlite.binding as llvm
    from optsim import _rng
    from optsim.problems import MLP
    from optsim.problems import _mlp_kernels as K
    from optsim.optimizers.adam import adam_step
    out = {}
    nets = {"w5": dict(dataset="digits", hidden=[32], activation="tanh", tanh="portable"),
            "odd": dict(dataset="digits", hidden=[33, 17], activation="relu", loss="squared", bias=False)}
    for name, kw in nets.items():
        p = MLP(**kw)
        data = p.data()
        X, y, cfg = data[0], data[1], data[6]
        x = np.empty(p.dimension())
        K.mlp_init(x, cfg, _rng.stream_state(0, 0, 3, 0))
        S = np.zeros((2, x.shape[0]))
        g = np.empty_like(x)
        rows = np.random.default_rng(1).permutation(X.shape[0]).astype(np.int64)
        hp = optsim.optimizers.Adam(lr=1e-2).row()
        for t in range(6):
            nb = 32 if t % 2 == 0 else 13
            out[f"{name}_f{t}"] = np.array([K.mlp_batch(x, g, X, y, rows[40 * t:], nb, cfg)])
            out[f"{name}_g{t}"] = g.copy()
            adam_step(x, g, S, np.zeros(0), t + 1, 1e-7, hp)
        out[f"{name}_x"] = x
        out[f"{name}_full"] = np.array(K.mlp_full(x, g, X, y, cfg, True))
        out[f"{name}_gfull"] = g
    rng = _rng.stream_state(0, 0, 1, 0)
    out["normals"] = np.array([_rng.normal(rng) for _ in range(5000)])
    np.savez(sys.argv[1], **out)
    sig = next(iter(K._pass.signatures))
    print(int("+avx512f" in llvm.get_host_cpu_features().flatten().split(",")), K._pass.inspect_asm(sig).count("zmm"))
"""


def _results(tmp_path, source, value, timeout):
    """The arrays the script ``source`` saves to the path in its ``argv[1]``, run in a child
    process under ``OPTSIM_VECTOR_WIDTH=value`` with empty caches of its own, and its output."""
    out = tmp_path / f"{value}.npz"
    r = _child(source, _env(tmp_path / value, OPTSIM_VECTOR_WIDTH=value), out, timeout=timeout)
    assert r.returncode == 0, r.stderr
    with np.load(out) as z:
        return {k: z[k] for k in z.files}, r.stdout


def _kernels(tmp_path, value):
    arrays, stdout = _results(tmp_path, _KERNELS, value, timeout=900)
    avx512, zmm = map(int, stdout.split())
    return arrays, avx512, zmm


def test_the_kernels_give_the_same_bits_with_512_bit_vectors(tmp_path):
    auto, avx512, zmm_auto = _kernels(tmp_path, "auto")
    wide, _, zmm_wide = _kernels(tmp_path, "512")
    if avx512:  # the setting took effect: the forward and backward products use 512-bit registers
        assert zmm_wide > zmm_auto
    assert auto.keys() == wide.keys()
    for k in auto:
        np.testing.assert_array_equal(auto[k].view(np.uint64), wide[k].view(np.uint64), err_msg=k)


_SWEEPS = """
    import sys, numpy as np, optsim
    kw = dict(optimizer=optsim.optimizers.Adam(), grid={"lr": [1e-3, 3e-2]}, replicates=5, seed=3, progress=False,
              record_every=25)
    a = optsim.sweep(problem=optsim.problems.MLP(dataset="digits", hidden=[32], tanh="portable"),
                     noise=optsim.noise.Minibatch(batch_size=32), steps=100, record=("loss", "test_loss", "metrics"),
                     **kw)
    b = optsim.sweep(problem=optsim.problems.Quadratic(curvatures=[1.0, 100.0], x0=[1.0, 1.0]),
                     noise=optsim.noise.Gaussian(sigma=1.0), steps=400, **kw)
    np.savez(sys.argv[1], **{f"mlp_{v}": a[v].values for v in a.data_vars}, **{f"q_{v}": b[v].values for v in b.data_vars})
"""


@pytest.mark.slow
def test_whole_sweeps_give_the_same_bits_with_512_bit_vectors(tmp_path):
    auto, _ = _results(tmp_path, _SWEEPS, "auto", timeout=1800)
    wide, _ = _results(tmp_path, _SWEEPS, "512", timeout=1800)
    assert auto.keys() == wide.keys()
    for k, v in auto.items():
        np.testing.assert_array_equal(v, wide[k], err_msg=k)
