"""Media matching tests: make the shared picture generator importable as ``imagegen``."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
