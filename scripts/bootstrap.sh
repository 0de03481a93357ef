#!/usr/bin/env bash
# Make sure the project's virtual environment exists and is up to date, then print its path.
# Called by scripts/run and scripts/test; safe to run on its own. The first argument names
# the extras to install (default "dev"; scripts/test adds the "ray" and "slurm" launchers).
#
# It looks for Python 3.12 or newer (python3.13, python3.12, then pyenv's 3.12 through the
# repository's .python-version, then plain python3) and stops with a clear message when
# none is found. The environment lives in .venv/ and is re-installed only when
# pyproject.toml or requirements.lock changes. Packages are installed at the exact versions
# of requirements.lock (pip constraints), so every fresh clone gets the same environment.
# The project is installed editable in "compat" mode (a path in a .pth file, not an import
# hook): a folder named `sim` in the user's working folder would otherwise hide the package
# from `python -m sim`.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv_dir="${SIM_VENV:-$repo_root/.venv}"
extras="${1:-dev}"
stamp="$venv_dir/.installed-${extras//,/-}"

python_is_new_enough() {
    "$@" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1
}

find_python() {
    local candidate
    for candidate in python3.13 python3.12; do
        if command -v "$candidate" >/dev/null 2>&1 && python_is_new_enough "$candidate"; then
            command -v "$candidate"; return 0
        fi
    done
    # pyenv: .python-version selects 3.12 inside the repository; PYENV_VERSION does elsewhere.
    if command -v pyenv >/dev/null 2>&1; then
        local pyenv_python
        pyenv_python="$(cd "$repo_root" && PYENV_VERSION="$(cat .python-version 2>/dev/null || echo 3.12)" pyenv which python3 2>/dev/null || true)"
        if [ -n "$pyenv_python" ] && python_is_new_enough "$pyenv_python"; then
            echo "$pyenv_python"; return 0
        fi
    fi
    if command -v python3 >/dev/null 2>&1 && python_is_new_enough python3; then
        command -v python3; return 0
    fi
    return 1
}

if [ ! -x "$venv_dir/bin/python" ] || ! python_is_new_enough "$venv_dir/bin/python"; then
    if ! python="$(find_python)"; then
        echo "sim: error: Python 3.12 or newer is required but none was found." >&2
        echo "sim: install it (for example 'pyenv install 3.12') and run this command again." >&2
        exit 1
    fi
    echo "sim: creating the virtual environment in $venv_dir with $("$python" --version)" >&2
    rm -rf "$venv_dir"
    "$python" -m venv "$venv_dir"
fi

lock="$repo_root/requirements.lock"
wanted="$(cat "$repo_root/pyproject.toml" "$lock" | sha256sum | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$wanted" ]; then
    echo "sim: installing the project and its dependencies (first run only, one to two minutes)" >&2
    log="$venv_dir/install.log"
    pip_version="$(grep -E '^pip==' "$lock" | head -n 1)"
    if ! { "$venv_dir/bin/python" -m pip install --disable-pip-version-check "$pip_version" &&
           "$venv_dir/bin/python" -m pip install --disable-pip-version-check -c "$lock" \
               --config-settings editable_mode=compat -e "$repo_root[$extras]"; } \
           > "$log" 2>&1; then
        tail -n 30 "$log" >&2
        echo "sim: error: installing the dependencies failed; the full log is in $log" >&2
        exit 1
    fi
    echo "$wanted" > "$stamp"
fi
echo "$venv_dir"
