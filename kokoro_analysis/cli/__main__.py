"""``python -m kokoro_analysis.cli`` (as accelerate and run_all.sh call it)."""

import sys

from kokoro_analysis.cli import main

sys.exit(main())
