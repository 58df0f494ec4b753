"""Run `snakemake --lint` and fail only on real findings.

Snakemake's linter advises every rule to declare a conda environment or a container. This
workflow's software environment is the Makefile's pinned `.venv` (the data-carrying packages
are installed with `--no-deps`, which a conda environment file cannot express), so that advice
is expected on every rule and is filtered out here, by its exact title. Every other lint is
printed and makes the exit status 1; so does a Snakemake error that is not a lint (e.g. a
syntax error in a rule file).

    python tools/snakemake_lint.py [SNAKEMAKE]      # `make lint` runs this
"""

from __future__ import annotations

import re
import subprocess
import sys

# The one piece of generic advice that does not apply to a pip-installed workflow.
IGNORED = ("Specify a conda environment or container for each rule.",)

HEADER = re.compile(r"^Lints for (.+):$")
ITEM = re.compile(r"^ {4}\* (.+?):?$")


def findings(output: str) -> tuple[int, list[str]]:
    """(number of lint items seen, the lines of the items that are not ignored)."""
    seen, kept, block, where, keep = 0, [], [], "", False
    for line in output.splitlines():
        header = HEADER.match(line)
        item = ITEM.match(line)
        if header:
            where = header.group(1)
        elif item:
            if keep:
                kept += block
            seen += 1
            keep = not any(item.group(1).rstrip(":") == t.rstrip(":") for t in IGNORED)
            block = [f"{where}: {item.group(1)}"]
            continue
        if item is None and line.startswith("      ") and block:
            block.append(line)
    if keep:
        kept += block
    return seen, kept


def main(snakemake: str = "snakemake") -> int:
    run = subprocess.run([snakemake, "--lint"], capture_output=True, text=True)
    output = run.stdout + run.stderr
    seen, kept = findings(output)
    if kept:
        print("snakemake --lint:\n" + "\n".join(kept), file=sys.stderr)
        return 1
    if run.returncode != 0 and seen == 0:
        print(output, file=sys.stderr)
        return run.returncode
    print(f"snakemake --lint: no findings ({seen} conda/container advice items ignored)")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:2]))
