"""`python -m bench`: run every benchmark in turn (each prints its table, writes JSON)."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

here = Path(__file__).parent
for module in sorted(
    m.name for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("bench_")
):
    print(f"\n== {module} ==", flush=True)
    code = subprocess.call([sys.executable, "-m", f"bench.{module}"])
    if code:
        sys.exit(code)
