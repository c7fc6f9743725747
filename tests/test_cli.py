"""The optsim command line: list, sweep, plot, errors."""

import json

import numpy as np
import pytest

import optsim
from optsim import registry
from optsim.cli import main

TINY = """
title = "tiny"

[problem]
name = "quadratic"
curvatures = [1.0, 10.0]

[optimizer]
name = "sgd"

[grid]
lr = { logspace = [-2, -1, 3] }

[run]
replicates = 4
steps = 20
record_every = 5
thresholds = [0.5]
seed = 3
"""


def test_version(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert optsim.__version__ in capsys.readouterr().out


def test_list_shows_every_registered_component(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for role in registry.ROLES:
        for name, cls in registry.components(role).items():
            assert f"  {name}  (" in out, name
            for p in cls.params:
                assert p.name in out
                assert p.range_text() in out


@pytest.mark.parametrize("role", ["optimizer", "schedules", "problem", "noise"])
def test_list_one_role(capsys, role):
    assert main(["list", role]) == 0
    out = capsys.readouterr().out
    canonical = role.rstrip("s") if role != "noise" else "noise"
    for name in registry.components(canonical):
        assert f"  {name}  (" in out
    others = [r for r in registry.ROLES if r != canonical]
    for r in others:
        for name in registry.components(r):
            if name not in registry.components(canonical):
                assert f"  {name}  (" not in out


def test_list_unknown_role(capsys):
    assert main(["list", "optimisers"]) == 2
    err = capsys.readouterr().err
    assert "optimisers" in err and "optimizers" in err


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    cfg = d / "tiny.toml"
    cfg.write_text(TINY)
    out = d / "res" / "tiny.nc"
    rc = main(["sweep", str(cfg), "-o", str(out), "--threads", "1"])
    return rc, cfg, out


def test_sweep_writes_result_and_figures(tiny_run, capsys):
    rc, cfg, out = tiny_run
    assert rc == 0
    ds = optsim.load(out)
    assert ds["loss"].dims == ("lr", "replicate", "step")
    np.testing.assert_allclose(ds["lr"], np.logspace(-2, -1, 3))
    assert ds.sizes["replicate"] == 4 and int(ds["step"][-1]) == 20
    for suffix in (".png", ".pdf", ".json"):
        assert out.with_suffix(suffix).exists(), suffix
    sidecar = json.loads(out.with_suffix(".json").read_text())
    assert sidecar["spec_hash"] == ds.attrs["spec_hash"]
    assert out.with_suffix(".pdf").read_bytes().startswith(b"%PDF")
    assert ds.attrs["spec_hash"].encode() in out.with_suffix(".pdf").read_bytes()
    from PIL import Image

    with Image.open(out.with_suffix(".png")) as im:
        assert ds.attrs["spec_hash"] in im.info["Description"]
        assert im.info["Software"].startswith("optsim")


def test_sweep_summary_and_overrides(tmp_path, capsys):
    cfg = tmp_path / "tiny.toml"
    cfg.write_text(TINY)
    out = tmp_path / "o.nc"
    fig = tmp_path / "figs" / "f.png"
    rc = main(["sweep", str(cfg), "-o", str(out), "--figure", str(fig), "--set", "run.steps=10",
               "--set", "grid.lr=[0.05]"])
    assert rc == 0
    text = capsys.readouterr().out
    assert "trajectory-steps/s" in text and "4 (lr=1, replicate=4)" in text
    assert fig.exists() and fig.with_suffix(".pdf").exists()
    ds = optsim.load(out)
    assert int(ds["step"][-1]) == 10 and ds.sizes["lr"] == 1


def test_quiet_sweep_without_figure(tmp_path, capsys):
    cfg = tmp_path / "tiny.toml"
    cfg.write_text(TINY)
    out = tmp_path / "q.nc"
    assert main(["sweep", str(cfg), "-o", str(out), "--quiet", "--no-figure"]) == 0
    assert capsys.readouterr().out == ""
    assert out.exists() and not out.with_suffix(".png").exists()


def test_plot_redraws_saved_result(tiny_run, tmp_path, capsys):
    _, _, out = tiny_run
    fig = tmp_path / "again.png"
    assert main(["plot", str(out), "--figure", str(fig)]) == 0
    assert fig.exists() and fig.with_suffix(".pdf").exists()
    assert main(["plot", str(tmp_path / "missing.nc")]) == 2
    assert "optsim sweep" in capsys.readouterr().err


@pytest.mark.parametrize(
    "edit, words",
    [
        (lambda t: t.replace("steps = 20", "stepz = 20"), ["stepz", "steps", "[run]"]),
        (lambda t: t.replace('name = "sgd"', 'name = "sgd"\nmomentum = 1.5'), ["momentum", "[0.0, 1.0)"]),
        (lambda t: t.replace('name = "sgd"', 'name = "adamm"'), ["adamm", "adam"]),
        (lambda t: t.replace("lr = {", "lrr = {"), ["[grid]", "lrr"]),
        (lambda t: t.replace("[run]", "[run"), ["TOML"]),
        (lambda t: t.replace("seed = 3", 'seed = 3\nreduce = ["median"]'), ["reduce", "mean, std, quantiles"]),
    ],
)
def test_bad_config_exits_2_with_one_line(tmp_path, capsys, edit, words):
    cfg = tmp_path / "bad.toml"
    cfg.write_text(edit(TINY))
    rc = main(["sweep", str(cfg), "-o", str(tmp_path / "bad.nc")])
    assert rc == 2
    err = capsys.readouterr().err
    assert err.startswith("optsim: error:") and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    for w in words:
        assert w in err, (w, err)
    assert not (tmp_path / "bad.nc").exists()


def test_missing_config_and_bad_threads(tmp_path, capsys):
    assert main(["sweep", str(tmp_path / "none.toml"), "-o", str(tmp_path / "x.nc")]) == 2
    assert "none.toml" in capsys.readouterr().err
    cfg = tmp_path / "tiny.toml"
    cfg.write_text(TINY)
    assert main(["sweep", str(cfg), "-o", str(tmp_path / "x.nc"), "--threads", "0"]) == 2
    assert "--threads" in capsys.readouterr().err


def test_list_markdown_has_every_registered_component(capsys):
    from optsim import registry
    from optsim.cli import main

    assert main(["list", "--markdown"]) == 0
    out = capsys.readouterr().out
    for role in registry.ROLES:
        for name in registry.components(role):
            assert f"| `{name}` |" in out


def test_docs_tables_are_current():
    """The documentation's component page shows `optsim list --markdown`, generated when the
    site is built (docs/_ext/optsim_pages.py), so it is current by construction."""
    import sys
    from pathlib import Path

    from optsim import registry
    from optsim.cli import markdown_tables

    docs = Path(__file__).parent.parent / "docs"
    sys.path.insert(0, str(docs / "_ext"))
    import optsim_pages

    assert optsim_pages.component_tables() == markdown_tables(registry.ROLES)
    assert "{include} ../generated/component_tables.md" in (docs / "user_guide" / "components.md").read_text()


def test_sweep_reduced_over_replicates(tmp_path, capsys):
    cfg = tmp_path / "tiny.toml"
    cfg.write_text(TINY)
    out = tmp_path / "r.nc"
    assert main(["sweep", str(cfg), "-o", str(out), "--reduce", "mean,quantiles"]) == 0
    text = capsys.readouterr().out
    assert "12 (lr=3, replicate=4); reduced over replicates" in text
    ds = optsim.load(out)
    assert "loss_quantile" in ds and "replicate" not in ds.dims and ds.attrs["replicates"] == 4
    assert out.with_suffix(".png").exists()
    assert main(["sweep", str(cfg), "-o", str(out), "--reduce", "median"]) == 2
    assert "reduce" in capsys.readouterr().err


def test_list_describes_the_cautious_forms(capsys):
    """The cautious forms are made on first use, not registered: ``optsim list`` describes the
    family once, with its own parameter, and the names it gives resolve."""
    from optsim.optimizers.cautious import CAUTIOUS_PARAMS

    assert main(["list", "optimizers"]) == 0
    out = capsys.readouterr().out
    tail = out[out.index("  cautious_<name>, cautious_exact_<name>  ("):]
    for p in CAUTIOUS_PARAMS:
        assert p.name in tail and p.range_text() in tail
    assert main(["list", "--markdown"]) == 0
    assert "| `cautious_<name>`, `cautious_exact_<name>` |" in capsys.readouterr().out
    for name in ("cautious_adam", "cautious_exact_sgd"):
        cls = registry.get("optimizer", name)
        inner = registry.get("optimizer", name.rsplit("_", 1)[-1])
        assert [p.name for p in cls.params] == [p.name for p in inner.params] + [p.name for p in CAUTIOUS_PARAMS]
