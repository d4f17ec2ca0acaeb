"""Moving an app's data off LeanCloud (and between our servers): ``leancloud import``
and ``leancloud export``. See ``docs/migration.md``.

``run_import(source, target, checkpoint_dir, options)`` and ``run_export(source, dir)``
are the entry points; sources are in ``sources``, targets in ``targets``.
"""

from leancloud.migration.exporter import run_export
from leancloud.migration.importer import ImportOptions, run_import

__all__ = ["ImportOptions", "run_export", "run_import"]
