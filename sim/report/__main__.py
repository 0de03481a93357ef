"""`python -m sim.report`: see sim.report. Every error is one line (see sim.errors).

`sim.errors` is loaded first (itself light), and the command's module only once the signal
handlers are set, so Ctrl-C or SIGTERM while it starts ends it with one line too.
"""

import sys

try:
    from sim import errors
except KeyboardInterrupt:  # Ctrl-C in the first milliseconds: the line sim.errors would print
    print("sim: interrupted; nothing was written", file=sys.stderr)
    sys.exit(130)

if __name__ == "__main__":
    errors.run_command_module("sim.report.command")
