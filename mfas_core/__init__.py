"""mfas_core: the library behind the MFAS / DMF workflow.

Everything the Snakemake rules do lives here, importable and testable without Snakemake.
"""

import os

# HDF5 file locks, set here once, before any module of the package imports h5py: the dataset
# files and the feature cache are read by many jobs at once (search levels, final training,
# evaluation) while other jobs write their own files next to them, and on the NFS/Lustre
# file systems of SLURM clusters HDF5's locks either fail ("unable to lock file") or block
# readers. Every file is written once, to a temporary path, and renamed into place
# (mfas_core.atomic), so readers never need the lock (docs/SOURCES.md).
os.environ.setdefault("HDF5_USE_FILE_LOCKING", "FALSE")

__version__ = "0.1.0"
