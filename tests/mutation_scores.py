"""Per-module mutation scores from `mutmut results --all true` (run by `make mutation`).

Score = killed (or timed out) / checked mutants of the module; mutants no selected test
reaches ("no tests") count as survivors; "not checked" are those an interrupted run left. Prints a Markdown table; `--survivors` lists the survivors.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

KILLED = {"killed", "timeout"}


def module_of(mutant: str) -> str:
    """'mfas_core.search.space.xǁSearchSpaceǁcheck__mutmut_4' -> 'mfas_core/search/space.py'."""
    head = re.split(r"\.x[_ǁ]", mutant, maxsplit=1)[0]
    return head.replace(".", "/") + ".py"


def results(mutmut: str) -> dict[str, str]:
    """Mutant name -> status, from mutmut's own result listing."""
    out = subprocess.run(
        [mutmut, "results", "--all", "true"], capture_output=True, text=True, check=True
    ).stdout
    found = {}
    for line in out.splitlines():
        m = re.match(r"^\s*(\S+__mutmut_\d+): (.+)$", line)
        if m:
            found[m.group(1)] = m.group(2).strip()
    return found


def main(argv: list[str]) -> int:
    mutmut = str(Path(sys.executable).parent / "mutmut")
    found = results(mutmut)
    per: dict[str, Counter] = defaultdict(Counter)
    for name, status in found.items():
        per[module_of(name)][status] += 1
    print("| module | mutants | not checked | killed | survived | no tests | score |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    total: Counter = Counter()
    for module in [*sorted(per), "all"]:
        c = total if module == "all" else per[module]
        if module != "all":
            total.update(c)
        n, k, todo = sum(c.values()), sum(c[s] for s in KILLED), c["not checked"]
        score = f"{100 * k / (n - todo):.1f} %" if n > todo else "—"
        print(f"| {module} | {n} | {todo} | {k} | {c['survived']} | {c['no tests']} | {score} |")
    if "--survivors" in argv:
        for name, status in sorted(found.items()):
            if status not in KILLED | {"not checked"}:
                print(f"{status}: {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
