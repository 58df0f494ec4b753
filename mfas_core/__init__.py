"""mfas_core: the library behind the MFAS / DMF workflow.

Everything the Snakemake rules do lives here, importable and testable without Snakemake.
"""

__version__ = "0.1.0"
