"""`python -m engine`."""

import gc
import sys

# Start-up imports make ~100,000 objects that live as long as the process; collecting
# while they are made finds no garbage and costs a sixth of the import time. The CLI
# turns collection back on once its command is set up (engine/cli.py).
gc.disable()

from engine.cli import main  # noqa: E402

sys.exit(main())
