"""Print optsim's error against every golden file (needs optsim, not the libraries)::

    PYTHONPATH=.:tests python tests/golden/errors.py [prefix ...]    # from the repository root

One line per case: the largest normwise relative error, the file's rtol, whether it is a
comparison or a recorded difference (``differs``), and the note.
"""

import sys

import test_golden as tg
from golden import fixtures


def main(prefixes):
    for kind in fixtures.KINDS:
        for path in fixtures.cases(kind):
            if prefixes and not any(path.stem.startswith(p) for p in prefixes):
                continue
            meta, arrays = fixtures.load(path)
            if kind == "optimizers":
                err = tg.relerr(tg.grouped_trajectory(path), arrays["xs"])
            else:
                lrs = arrays["lrs"]
                got = tg._schedule(meta["schedule"]).learning_rates(lrs.shape[0], base_lr=meta["base_lr"],
                                                                    losses=arrays.get("losses"))
                err = tg.relerr(got[None], lrs[None])
            status = "compared" if tg._comparable(meta) else "differs"
            print(f"{path.stem:45s} {meta['library']:18s} {err:9.2e} {meta['rtol']:8.1e} {status:8s} "
                  f"{meta.get('note', '')[:90]}")


if __name__ == "__main__":
    main(sys.argv[1:])
