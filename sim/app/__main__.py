"""`python -m sim.app`: see sim.app. Every error is one line (see sim.errors).

Ctrl-C or SIGTERM while the command starts ends it with one line too, as it does later:
`sim.errors` is loaded first (itself light), and the command's module only once the signal
handlers are set (`sim.errors.run_command_module`).
"""

import sys

try:
    from sim import errors
except KeyboardInterrupt:  # Ctrl-C in the first milliseconds: the line sim.errors would print
    print("sim: interrupted; nothing was written", file=sys.stderr)
    sys.exit(130)

if __name__ == "__main__":
    errors.run_command_module("sim.app.command")
