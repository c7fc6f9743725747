"""The recorded outputs are defined once (``optsim.engine.outputs``): what derives from the
table agrees with it, and the trajectory loop, which spells its outputs out, agrees too."""

import inspect
import re

import numpy as np
import pytest

import optsim
from optsim.engine import _driver, _records
from optsim.engine.outputs import FLAGS, OUTPUT_NAMES, OUTPUTS, RECORDED, STAT_NAMES, output
from optsim.engine.plan import RECORDABLE
from optsim.reduce import _CURVES, _SUMMARIES
from optsim.sweep import build_plan


def _driver_source():
    return inspect.getsource(_driver.run.py_func)


def test_the_loop_takes_its_outputs_in_the_order_of_the_table():
    args = [a for a in inspect.signature(_driver.run.py_func).parameters if a.startswith("out_")]
    assert args == [o.arg for o in OUTPUTS]


def test_the_loops_flag_bits_are_the_tables():
    src = _driver_source()
    recorded = dict(re.findall(r"(rec_\w+) = (out_\w+)\.shape\[1\] > 0", src))
    expr = re.search(r"flags = \((.*?)\)\n", src, re.S).group(1)
    bits = {recorded[name]: int(bit) for name, bit in re.findall(r"(rec_\w+) \* (\d+)", expr)}
    assert bits == {output(name).arg: getattr(FLAGS, name) for name in RECORDED}
    # and the records function gets their addresses in the table's order
    addr = dict(re.findall(r"(a_\w+) = addr_of\((out_\w+)\)", src))
    call = re.search(r"call_void\(f_rec, \((.*?)\)\)", src, re.S).group(1)
    passed = [addr[a] for a in re.findall(r"\ba_\w+\b", call) if a in addr]
    assert passed == [o.arg for o in OUTPUTS if o.per_record] + [output("first_below").arg]
    pointers = [p for p in inspect.signature(_records.records._pyfunc).parameters if p.startswith("p_")]
    assert pointers.index("p_first") == len(RECORDED)


def test_flags_are_distinct_bits_in_the_order_of_record():
    assert list(FLAGS._fields) == list(RECORDED) == list(_records.RECORDS)
    assert list(FLAGS) == [1 << i for i in range(len(RECORDED))]


def test_what_derives_from_the_table():
    assert list(RECORDABLE) == list(RECORDED)
    assert all(RECORDABLE[o.name] == o.doc for o in OUTPUTS if o.per_record)
    assert list(optsim.RECORDABLE) == list(RECORDED)
    assert _CURVES + _SUMMARIES == tuple(o.name for o in OUTPUTS if o.reduction == "stats")
    assert len(OUTPUT_NAMES) == len(set(OUTPUT_NAMES)) and len(STAT_NAMES) == 3


@pytest.mark.parametrize("record", [(), ("loss",), tuple(r for r in RECORDED if r != "test_loss")])
def test_plan_shapes_fills_and_the_datasets_follow_the_table(record):
    kw = dict(problem=optsim.problems.Quadratic(curvatures=[1.0, 10.0], x0=[1.0, 1.0]),
              optimizer=optsim.optimizers.Adam(), grid={"lr": [0.01, 0.1]}, replicates=2, steps=12,
              record_every=4, record=record, thresholds=[1e-3], seed=1, progress=False)
    plan = build_plan(**{k: v for k, v in kw.items() if k != "progress"})[0]
    shapes = plan.output_shapes(5)
    assert list(shapes) == list(OUTPUT_NAMES)
    out = plan.allocate(5)
    R = plan.rec_steps.shape[0]
    for o in OUTPUTS:
        (shp, dtype), arr = shapes[o.name], out[o.name]
        assert arr.shape == shp and arr.dtype == np.dtype(o.dtype) == np.dtype(dtype)
        assert shp[0] == 5 and len(shp) == 1 + o.per_record + len(o.dims)
        if o.per_record:
            assert shp[1] == (R if o.name in record else 0)
        assert np.all(arr == -1) if o.fill == -1 else np.all(np.isnan(arr))
    ds = optsim.sweep(**kw)
    for o in OUTPUTS:
        if o.per_record and o.name not in record:
            assert o.name not in ds
            continue
        dims, trailing = ds[o.name].dims, (("step",) if o.per_record else ()) + o.dims
        assert dims[len(dims) - len(trailing):] == trailing and dims[:len(dims) - len(trailing)] == ("lr", "replicate")
        assert ds[o.name].attrs["description"] == o.doc
    red = optsim.sweep(**kw, reduce="mean")
    for o in OUTPUTS:
        if o.reduction == "stats" and (not o.per_record or o.name in record):
            assert red[f"{o.name}_mean"].attrs["description"] == f"mean over replicates of {o.what}"
    assert "diverged_fraction" in red and "first_below_fraction" in red
