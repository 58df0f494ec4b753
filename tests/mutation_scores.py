"""Per-module mutation scores from `mutmut results --all true` (run by `make mutation`).

Score = killed (or timed out) / all mutants of the module; mutants no selected test reaches
("no tests") count as survivors. Prints a Markdown table; `--survivors` lists the survivors.
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
    print("| module | mutants | killed | survived | no tests | other | score |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    total = Counter()
    for module in sorted(per):
        c = per[module]
        total.update(c)
        n, k = sum(c.values()), sum(c[s] for s in KILLED)
        other = n - k - c["survived"] - c["no tests"]
        print(f"| {module} | {n} | {k} | {c['survived']} | {c['no tests']} | {other} | "
              f"{100 * k / n:.1f} % |")  # fmt: skip
    n, k = sum(total.values()), sum(total[s] for s in KILLED)
    print(f"| all | {n} | {k} | {total['survived']} | {total['no tests']} | "
          f"{n - k - total['survived'] - total['no tests']} | {100 * k / max(n, 1):.1f} % |")  # fmt: skip
    if "--survivors" in argv:
        for name, status in sorted(found.items()):
            if status not in KILLED:
                print(f"{status}: {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
