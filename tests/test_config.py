"""TOML sweep configurations: parsing, grid expansion and error messages."""

from pathlib import Path

import numpy as np
import pytest

import optsim
from optsim.config import ConfigError, expand_axis, load_config, parse_config
from optsim.sweep import Method

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("*.toml"))

BASE = """
[problem]
name = "quadratic"
curvatures = [1.0, 10.0]

[optimizer]
name = "sgd"
lr = 0.1

[run]
steps = 20
replicates = 2
"""


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_examples_parse_and_validate(path):
    kwargs = load_config(path)
    assert isinstance(kwargs["problem"], optsim.problems.Problem)


def test_adam_example_is_the_documented_workload():
    kwargs = load_config(Path(__file__).resolve().parents[1] / "examples" / "adam_quadratic.toml")
    assert isinstance(kwargs["optimizer"], optsim.optimizers.Adam)
    np.testing.assert_allclose(kwargs["grid"]["lr"], np.logspace(-4, 0, 64))
    assert (kwargs["replicates"], kwargs["steps"], kwargs["record_every"]) == (256, 2000, 50)
    np.testing.assert_array_equal(kwargs["problem"].curvatures, [1.0, 100.0])
    assert kwargs["noise"][0].sigma == 1.0


def test_minimal_config():
    kwargs = parse_config(BASE)
    assert isinstance(kwargs["optimizer"], optsim.optimizers.SGD)
    assert kwargs["optimizer"].lr == 0.1
    assert kwargs["steps"] == 20 and kwargs["replicates"] == 2
    assert "noise" not in kwargs and "grid" not in kwargs


@pytest.mark.parametrize(
    "spec, expected",
    [
        ([0.1, 0.2], [0.1, 0.2]),
        ({"logspace": [-2, 0, 3]}, [0.01, 0.1, 1.0]),
        ({"linspace": [0, 1, 3]}, [0.0, 0.5, 1.0]),
        ({"geomspace": [1, 100, 3]}, [1.0, 10.0, 100.0]),
        ({"values": [3, 4]}, [3, 4]),
    ],
)
def test_grid_axis_forms(spec, expected):
    np.testing.assert_allclose(expand_axis("lr", spec), expected)


@pytest.mark.parametrize(
    "spec, words",
    [
        ({"logspase": [-2, 0, 3]}, ["logspase", "logspace"]),
        ({"logspace": [-2, 0]}, ["logspace", "[start, stop, num]"]),
        ({"logspace": [-2, 0, 2.5]}, ["num"]),
        ({"logspace": [-2, 0, 3], "values": [1]}, ["exactly one"]),
        ([], ["empty"]),
        ("0.1", ["list of values"]),
        ({"geomspace": [0, 1, 3]}, ["> 0"]),
    ],
)
def test_grid_axis_errors(spec, words):
    with pytest.raises(ConfigError) as info:
        expand_axis("lr", spec)
    msg = str(info.value)
    assert "[grid] lr" in msg
    for w in words:
        assert w in msg


def test_zipped_axis_and_noise_list():
    text = BASE.replace('name = "sgd"\nlr = 0.1', 'name = "adam"') + """
[[noise]]
name = "gaussian"
sigma = 0.5
[[noise]]
name = "gaussian"
sigma = 0.1
[grid]
"beta1,beta2" = [[0.9, 0.999], [0.0, 0.99]]
lr = [0.01, 0.1]
"""
    kwargs = parse_config(text)
    assert [n.sigma for n in kwargs["noise"]] == [0.5, 0.1]
    assert kwargs["grid"]["beta1,beta2"] == [[0.9, 0.999], [0.0, 0.99]]


def test_several_optimizers_with_schedules():
    text = BASE.replace('[optimizer]\nname = "sgd"\nlr = 0.1', """
[optimizers.plain]
name = "sgd"
[optimizers.heavy]
name = "sgd"
momentum = 0.9
[optimizers.heavy.schedule]
name = "linear_warmup"
warmup_steps = 5
after = { name = "step", step_size = 10, gamma = 0.5 }
""")
    kwargs = parse_config(text)
    methods = kwargs["optimizer"]
    assert list(methods) == ["plain", "heavy"]
    assert all(isinstance(m, Method) for m in methods.values())
    assert methods["plain"].schedule is None
    sched = methods["heavy"].schedule
    assert sched.name == "linear_warmup" and sched.children_map["after"].gamma == 0.5


def test_overrides():
    kwargs = parse_config(BASE, overrides=["run.steps=7", "optimizer.lr=0.5", "grid.lr=[0.1, 0.2]"])
    assert kwargs["steps"] == 7
    assert kwargs["optimizer"].lr == 0.5
    assert kwargs["grid"]["lr"] == [0.1, 0.2]


@pytest.mark.parametrize(
    "edit, words",
    [
        (lambda t: t + "\n[optimiser]\nname = 'sgd'\n", ["[optimiser]", "optimizer"]),
        (lambda t: t.replace("steps = 20", "stepz = 20"), ["[run]", "stepz", "steps"]),
        (lambda t: t.replace('name = "sgd"', 'name = "sgdd"'), ["[optimizer]", "sgdd", "sgd"]),
        (lambda t: t.replace("lr = 0.1", "lr = -1.0"), ["[optimizer]", "lr", "(0.0, inf)"]),
        (lambda t: t.replace("lr = 0.1", "lrr = 0.1"), ["[optimizer]", "lrr", "lr"]),
        (lambda t: t.replace('[problem]\nname = "quadratic"', '[problem]\nname = "quadratik"'),
         ["[problem]", "quadratik", "quadratic"]),
        (lambda t: t.replace('[problem]\nname = "quadratic"\n', "[problem]\n"), ["[problem]", "name", "quadratic"]),
        (lambda t: t + "\n[grid]\nlrr = [0.1]\n", ["[grid]", "lrr", "lr"]),
        (lambda t: t + "\n[optimizers.a]\nname = 'sgd'\n", ["[optimizer]", "[optimizers"]),
        (lambda t: t.replace("replicates = 2", "replicates = 0"), ["replicates", "integer"]),
        (lambda t: t.replace("steps = 20", 'steps = 20\nrecord = ["lost"]'), ["record", "lost", "loss"]),
        (lambda t: t.replace("[problem]", "[problem"), ["TOML"]),
    ],
)
def test_errors_name_the_key(edit, words):
    with pytest.raises(ConfigError) as info:
        parse_config(edit(BASE), source="cfg.toml")
    msg = str(info.value)
    assert msg.startswith("cfg.toml")
    for w in words:
        assert w in msg, (w, msg)


def test_missing_problem_and_optimizer():
    with pytest.raises(ConfigError, match=r"missing \[problem\]"):
        parse_config("[optimizer]\nname = 'sgd'\n")
    with pytest.raises(ConfigError, match=r"missing \[optimizer\]"):
        parse_config("[problem]\nname = 'quadratic'\ncurvatures = [1.0]\n")


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="no such"):
        load_config(tmp_path / "nope.toml")


SCHEDULED = BASE.replace('name = "sgd"\nlr = 0.1', 'name = "adam"\nlr = 0.05') + """
[schedules.beta1]
name = "cosine"
T_max = 20

[grid]
"schedules.beta1.T_max" = [10, 20]
"""


def test_scheduled_hyperparameters_give_the_sweep_of_the_schedules_keyword():
    kwargs = parse_config(SCHEDULED)
    assert list(kwargs["schedules"]) == ["beta1"]
    assert kwargs["schedules"]["beta1"].name == "cosine" and kwargs["schedules"]["beta1"].T_max == 20
    ds = optsim.sweep(**kwargs, progress=False)
    ref = optsim.sweep(optsim.problems.Quadratic(curvatures=[1.0, 10.0]), optsim.optimizers.Adam(lr=0.05),
                       schedules={"beta1": optsim.schedules.CosineAnnealing(T_max=20)},
                       grid={"schedules.beta1.T_max": [10, 20]}, steps=20, replicates=2, progress=False)
    np.testing.assert_array_equal(ds["loss"].values, ref["loss"].values)


def test_scheduled_hyperparameters_per_method():
    text = BASE.replace('[optimizer]\nname = "sgd"\nlr = 0.1', """
[optimizers.adam]
name = "adam"
[optimizers.adam.schedules.beta2]
name = "exponential"
gamma = 0.99
[optimizers.heavy]
name = "sgd"
momentum = 0.9
[optimizers.heavy.schedules.momentum]
name = "cosine"
T_max = 20
""")
    methods = parse_config(text)["optimizer"]
    assert list(methods["adam"].schedules) == ["beta2"] and methods["adam"].schedules["beta2"].gamma == 0.99
    assert list(methods["heavy"].schedules) == ["momentum"] and methods["heavy"].schedule is None


@pytest.mark.parametrize("extra, match", [
    ('[schedules.beta9]\nname = "cosine"', r"^<config>: \[schedules\] .*no parameter 'beta9'"),
    ('[schedules.beta1]\nname = "cosinx"', r"^<config>: \[schedules.beta1\] no schedule named 'cosinx'"),
    ('[schedules.beta1]\nname = "cosine"\nT_mx = 3', r"^<config>: \[schedules.beta1\] .*'T_mx'"),
    ('[schedules]\nbeta1 = 3', r"^<config>: \[schedules.beta1\] must be a table"),
    ('[schedules]', r"^<config>: \[schedules\] must hold one table per hyperparameter"),
    ('[schedules.lr]\nname = "cosine"', r"^<config>: \[schedules\] .*lr follows schedule="),
])
def test_bad_schedules_name_the_section(extra, match):
    text = BASE.replace('name = "sgd"\nlr = 0.1', 'name = "adam"') + "\n" + extra + "\n"
    with pytest.raises(ConfigError, match=match) as info:
        parse_config(text)
    assert "\n" not in str(info.value)


def test_bad_schedules_of_a_method_name_its_section():
    text = BASE.replace('[optimizer]\nname = "sgd"\nlr = 0.1', """
[optimizers.heavy]
name = "sgd"
[optimizers.heavy.schedules.mom]
name = "cosine"
""")
    with pytest.raises(ConfigError, match=r"\[optimizers.heavy.schedules\] .*no parameter 'mom'"):
        parse_config(text)


def test_optsim_list_shows_what_schedules_accepts(capsys):
    from optsim import registry
    from optsim.cli import main

    scheduled = registry.schedulable()
    assert scheduled == {n: tuple(c.schedulable_names()) for n, c in registry.components("optimizer").items()}
    assert "beta1" in scheduled["adam"] and "lr" not in scheduled["adam"]
    assert main(["list", "optimizer"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    for name, hps in scheduled.items():
        assert f"[schedules.<name>]): {', '.join(hps) or 'none'}" in text
