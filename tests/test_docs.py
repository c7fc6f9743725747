"""The documentation: the docstring examples and the getting-started page run as written
(doctest), the generated pages follow the code (component tables, conventions, one page per
study and lecture with its saved verdict), and the README stays short and self-contained."""

import doctest
import importlib
import json
import pkgutil
import re
import sys
from pathlib import Path

import pytest

import optsim

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
sys.path.insert(0, str(DOCS / "_ext"))

import optsim_pages  # noqa: E402

FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def optsim_modules():
    names = ["optsim"]
    for info in pkgutil.walk_packages(optsim.__path__, "optsim."):
        names.append(info.name)
    return names


def test_the_docstring_examples_run():
    finder, runner = doctest.DocTestFinder(exclude_empty=True), doctest.DocTestRunner(optionflags=FLAGS)
    examples = 0
    for name in optsim_modules():
        module = importlib.import_module(name)
        for test in finder.find(module, name):
            examples += len(test.examples)
            runner.run(test)
    failed, attempted = runner.summarize(verbose=False)
    assert examples > 0 and attempted == examples
    assert failed == 0, f"{failed} of {attempted} docstring examples failed (see the output above)"


def test_the_getting_started_page_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = doctest.testfile(str(DOCS / "getting_started.rst"), module_relative=False, optionflags=FLAGS)
    assert result.attempted >= 20
    assert result.failed == 0


def test_the_component_tables_are_generated_from_the_registry():
    from optsim import registry
    from optsim.cli import markdown_tables

    assert optsim_pages.component_tables() == markdown_tables(registry.ROLES)
    page = (DOCS / "user_guide" / "components.md").read_text()
    assert "```{include} ../generated/component_tables.md" in page


def test_the_conventions_page_has_every_option_and_its_docstring_note():
    from optsim import registry

    page = optsim_pages.conventions_page()
    for role in registry.ROLES:
        for name, cls in registry.components(role).items():
            for p in cls.params:
                if p.kind in ("choice", "bool"):
                    assert f":class:`{name} <" in page and f"``{p.name}``" in page
    notes = optsim_pages.option_notes(optsim.optimizers.Adam)
    assert "Keras" in notes["eps_mode"] and "PyTorch" in notes["eps_mode"]
    assert notes["bias_correction_m"] == notes["bias_correction_v"]


def test_every_study_has_a_page_with_its_saved_verdict():
    from studies import _runner

    names = [s["name"] for s in _runner.list_studies()]
    assert set(optsim_pages.research_studies()) | set(optsim_pages.lecture_studies()) == set(names)
    for name in names:
        saved = json.loads((DOCS / "verdicts" / f"{name}.json").read_text())
        assert saved["study"] == name and saved["scale"] == "quick"
        mod = _runner.load_study(name)
        if name in optsim_pages.research_studies():
            page = optsim_pages.study_page(name)
            assert optsim_pages.literal(mod.QUESTION) in page and optsim_pages.literal(mod.HYPOTHESIS) in page
        else:
            page = optsim_pages.lecture_page(name)
            assert optsim_pages.literal(mod.GALLERY["source"]) in page
            assert mod.GALLERY["file"] not in page  # lectures are named by author, course and title
        for row in saved["verdict"]:
            assert optsim_pages.literal(row["claim"]).splitlines()[0] in page
        assert f"{saved['reproduced']} of {saved['claims']} claims reproduced" in page
        assert "Verdict at the paper scale" in page
        paper = DOCS / "verdicts" / "paper" / f"{name}.json"
        if paper.is_file():
            saved = json.loads(paper.read_text())
            assert saved["study"] == name and saved["scale"] == "paper"
            assert f"{optsim_pages._counts(saved)} claims reproduced at the ``paper`` scale" in page
        else:
            assert f"optsim study {name} --scale paper" in page


def test_the_readme_gives_both_scales_from_the_committed_verdicts():
    import importlib.util

    spec = importlib.util.spec_from_file_location("update_verdicts", DOCS / "verdicts" / "update.py")
    update = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(update)
    assert update.readme_table() in (ROOT / "README.md").read_text(), (
        "the README's verdict table is not that of docs/verdicts: run `python docs/verdicts/update.py --table`")


def test_the_explorers_page_without_the_explorers(tmp_path, monkeypatch):
    monkeypatch.setattr(optsim_pages, "DOCS", tmp_path)
    page = optsim_pages.explorers_page(tmp_path / "extra")
    assert "not built" in page and "`" not in page.split("Explorers", 1)[1]


def test_the_explorers_page_links_what_the_script_builds(tmp_path, monkeypatch):
    (tmp_path / "explorers").mkdir()
    (tmp_path / "explorers" / "build.py").write_text(
        "from pathlib import Path\n"
        "def build(outdir):\n"
        "    p = Path(outdir) / 'momentum_valley.html'\n"
        "    p.write_text('<html></html>')\n"
        "    return [p]\n")
    monkeypatch.setattr(optsim_pages, "DOCS", tmp_path)
    page = optsim_pages.explorers_page(tmp_path / "extra")
    assert "<../explorers/momentum_valley.html>`__" in page
    assert (tmp_path / "extra" / "explorers" / "momentum_valley.html").is_file()


def test_the_readme_is_short_and_stays_inside_the_repository():
    text = (ROOT / "README.md").read_text()
    assert len(text.splitlines()) <= 300
    assert "../shared" not in text and "shared/lectures" not in text
    for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", text):
        if not re.match(r"[a-z]+://", target):
            assert (ROOT / target).exists(), f"README links to {target}, which is not in the repository"


def test_the_benchmark_summary_takes_each_workload_from_the_first_report_that_has_it(tmp_path):
    rounds = ROOT / "benchmarks" / "results" / "bench_peers_rounds.json"
    report = json.loads(rounds.read_text())
    w1 = report["workloads"]["W1"]
    extra = {"workloads": {"W1": {**w1, "impls": {**w1["impls"], "optsim": {**w1["impls"]["optsim"], "rate": 1.0}}},
                           "W9": w1}}
    (tmp_path / "bench_peers_w9.json").write_text(json.dumps(extra))
    table = optsim_pages.benchmark_summary([rounds, tmp_path / "bench_peers_w9.json"]).splitlines()
    rows = {line.split(" | ")[0].strip("| "): line for line in table[2:]}
    assert set(rows) == set(report["workloads"]) | {"W9"}
    assert f"{w1['impls']['optsim']['rate']:.3g}" in rows["W1"] and "bench_peers_rounds.json" in rows["W1"]
    assert "bench_peers_w9.json" in rows["W9"]
    c = w1["impls"]["c"]["rate"]
    assert f"{w1['impls']['optsim']['rate'] / c:.3g}x" in rows["W1"]
