"""Copy the verdicts of the last runs at the quick and paper scales into the documentation.

``python docs/verdicts/update.py [RESULTS]`` copies ``RESULTS/<study>/quick/verdict.json``
(default: ``results/`` of the working directory, where ``optsim study``, ``optsim reproduce``
and ``optsim gallery`` write) to ``docs/verdicts/<study>.json``, and
``RESULTS/<study>/paper/verdict.json`` to ``docs/verdicts/paper/<study>.json``, for every
study whose results are there.  The study and lecture pages of the site show these verdict
tables side by side, and say when a study's file has changed since its saved verdict was
computed.  ``python docs/verdicts/update.py --table`` prints the README's table of both scales
from the committed verdicts.
"""

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


#: where each scale's verdicts go
DESTINATIONS = {"quick": HERE, "paper": HERE / "paper"}


def update(results: Path) -> list[Path]:
    written = []
    for scale, folder in DESTINATIONS.items():
        for src in sorted(results.glob(f"*/{scale}/verdict.json")):
            data = json.loads(src.read_text())
            folder.mkdir(exist_ok=True)
            dest = folder / f"{data['study']}.json"
            dest.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
            written.append(dest)
    return written


def _load(scale, name):
    path = DESTINATIONS[scale] / f"{name}.json"
    return json.loads(path.read_text()) if path.is_file() else None


def _count(v):
    if v is None:
        return "not run"
    unsure = v.get("inconclusive", sum(1 for r in v["verdict"] if r.get("status") == "inconclusive"))
    return f"{v['reproduced']}/{v['claims']}" + (f" ({unsure} inconclusive)" if unsure else "")


def _cost(v):
    if v is None:
        return "-"
    minutes = v["run_seconds"] / 60
    out = f"{minutes:.0f} min" if minutes >= 1 else f"{v['run_seconds']:.0f} s"
    if v.get("cpu_seconds") is not None:
        out += f" ({v['cpu_seconds'] / 60:.0f} min CPU)" if v["cpu_seconds"] >= 60 else f" ({v['cpu_seconds']:.0f} s CPU)"
    if v.get("peak_rss_mb") is not None:
        out += f", {v['peak_rss_mb'] / 1024:.1f} GB"
    return out


def readme_table() -> str:
    """The README's table of every study: claims reproduced at the quick and paper scales
    (from the committed verdicts), and what the paper-scale run cost."""
    names = sorted(p.stem for p in HERE.glob("*.json"))
    lines = ["| study | title | reproduced: quick | paper | paper run: wall (CPU), peak memory |",
             "|---|---|---|---|---|"]
    for name in names:
        q, p = _load("quick", name), _load("paper", name)
        lines.append(f"| `{name}` | {q['title']} | {_count(q)} | {_count(p)} | {_cost(p)} |")
    return "\n".join(lines)


if __name__ == "__main__":
    if sys.argv[1:] == ["--table"]:
        print(readme_table())
        sys.exit(0)
    where = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("results")
    done = update(where)
    print("\n".join(str(p) for p in done) or f"no verdicts under {where}/*/quick/ or {where}/*/paper/")
