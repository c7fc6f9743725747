"""Copy the verdicts of the last runs at the quick and paper scales into the documentation.

``python docs/verdicts/update.py [RESULTS]`` copies ``RESULTS/<study>/quick/verdict.json``
(default: ``results/`` of the working directory, where ``optsim study``, ``optsim reproduce``
and ``optsim gallery`` write) to ``docs/verdicts/<study>.json``, and
``RESULTS/<study>/paper/verdict.json`` to ``docs/verdicts/paper/<study>.json``, for every
study whose results are there.  The study and lecture pages of the site show these verdict
tables side by side, and say when a study's file has changed since its saved verdict was
computed.
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


if __name__ == "__main__":
    where = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("results")
    done = update(where)
    print("\n".join(str(p) for p in done) or f"no verdicts under {where}/*/quick/ or {where}/*/paper/")
