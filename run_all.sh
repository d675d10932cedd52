#!/usr/bin/env bash
# Reproduce every table and figure of the KokoroChat paper from the raw data, or run the tests.
#
#   ./run_all.sh [OPTIONS]            run every notebook, then the reproduction report: this runs
#                                     kokoro-analysis run [OPTIONS] (python -m kokoro_analysis.cli run)
#   ./run_all.sh --test [PYTEST ARGS] run the test suite
#
# Without an active environment that has this checkout's package installed, a virtual environment is
# created in .venv and the package installed into it with the versions pinned in requirements-lock.txt
# (again whenever pyproject.toml or the lock changes). In a git
# clone it also sets up the nbstripout filter in .git/config, so notebook outputs never reach git.
# KOKORO_EXTRAS=llm (comma-separated optional extras) installs those extras too, e.g. for the model
# tests (tests marked llm; CI sets it) and prints how long their install took.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"

die() { echo "run_all.sh: $*" >&2; exit 2; }
usage() { sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; }

# step LABEL LOG COMMAND...: run COMMAND with its output in LOG, showing the elapsed seconds meanwhile
# (a live counter on a terminal, a line every 15 s otherwise); sets STEP_SECONDS, returns its status.
step() {
  local label="$1" log="$2" started=$SECONDS last=0 status
  shift 2
  "$@" >"$log" 2>&1 &
  local pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    sleep 0.2
    if [[ -t 1 ]]; then
      printf '\r==> %s ... %d s' "$label" $((SECONDS - started))
    elif ((SECONDS - started - last >= 15)); then
      last=$((SECONDS - started)); echo "    ... $label: ${last} s"
    fi
  done
  wait "$pid"; status=$?
  [[ -t 1 ]] && printf '\r\033[K'
  STEP_SECONDS=$((SECONDS - started))
  return $status
}

# --- environment ------------------------------------------------------------------------------------
active_env_has_package() {
  [[ -n "${VIRTUAL_ENV:-}${CONDA_PREFIX:-}" ]] || return 1
  python - "$ROOT" <<'PY' 2>/dev/null
import os, sys
import kokoro_analysis
sys.exit(0 if os.path.realpath(kokoro_analysis.__file__).startswith(os.path.realpath(sys.argv[1])) else 1)
PY
}

# venv_install ARGS...: install into .venv with uv (PyPI's uv package: resolves and downloads in parallel,
# several times faster than pip on a cold cache), installed into .venv with pip when absent; with pip
# when uv cannot be had or fails. KOKORO_INSTALLER=pip forces pip. pip's index settings given in the
# environment, and its certificate bundle, are passed on. The optional extras (KOKORO_EXTRAS) stay with pip: the llm extra's CPU
# build of torch comes from pip's find-links and constraints, which uv does not read.
# PyPI has unidic-lite and jamdict-data only as source archives, built into wheels here: uv zips those
# wheels without compression (stored), which halves their build (the 325 MB JMdict database alone took
# 26 CPU s deflated, 11 stored); the installed files are the same.
venv_install() {
  if [[ "${KOKORO_INSTALLER:-uv}" != pip ]] \
    && { "$PYTHON" -m uv --version >/dev/null 2>&1 || venv_pip install --quiet uv; }; then
    echo "--- uv pip install $*"
    local settings=() pair
    for pair in INDEX_URL EXTRA_INDEX_URL FIND_LINKS; do
      local from="PIP_$pair" to="UV_$pair"
      [[ -n "${!from:-}" && -z "${!to:-}" ]] && settings+=("$to=${!from}")
    done
    # pip's certificate bundle (PIP_CERT or pip's config), e.g. a proxy's CA, is uv's too
    local cert="${PIP_CERT:-$(venv_pip config list 2>/dev/null | sed -n "s/^global\.cert='\(.*\)'$/\1/p")}"
    [[ -z "${SSL_CERT_FILE:-}" && -n "$cert" && -f "$cert" ]] && settings+=("SSL_CERT_FILE=$cert")
    local stored=--build-option=--compression=stored
    env "${settings[@]}" "$PYTHON" -m uv pip install --python "$PYTHON" \
      --config-settings-package "unidic-lite:$stored" --config-settings-package "jamdict-data:$stored" \
      "$@" pip && return 0
    echo "--- uv failed; installing with pip instead"
  fi
  { "$PYTHON" -m pip --version >/dev/null 2>&1 || "$PYTHON" -m ensurepip --upgrade --default-pip; } \
    && "$PYTHON" -m pip install --upgrade pip && "$PYTHON" -m pip install "$@"
}

# compile_notebook_libraries: the bytecode of the libraries only the notebooks import, compiled once
# (tests excluded) while the data is checked and tokenized after an install, instead of by the two
# notebooks that start together, each compiling them (a failure only leaves that to them).
compile_notebook_libraries() {
  local site
  site="$("$PYTHON" -c 'import sysconfig; print(sysconfig.get_path("purelib"))')" || return 0
  local packages=(matplotlib scipy statsmodels sklearn seaborn fontTools PIL IPython ipykernel
    jupyter_client jupyter_core traitlets zmq tornado prompt_toolkit jedi parso pygments papermill
    nbformat nbclient jsonschema jamdict)
  "$PYTHON" -m compileall -q -j 1 -x '/tests?/' "${packages[@]/#/$site/}" >/dev/null 2>&1 || true
}

# venv_pip ARGS...: pip for .venv: its own when it has one, else the base Python's acting on it
# (pip 22.3 or newer: --python), as create_venv leaves pip out when that works (uv installs it later).
venv_pip() {
  if "$PYTHON" -m pip --version >/dev/null 2>&1; then
    "$PYTHON" -m pip "$@"
  else
    "$BASE_PYTHON" -m pip --python "$PYTHON" "$@"
  fi
}

# create_venv: .venv without pip when the base Python's pip can install into it (ensurepip takes about
# 3 s of a first run; uv installs pip with the dependencies), else with pip (ensurepip).
create_venv() {
  "$BASE_PYTHON" -m venv --without-pip .venv || return
  "$BASE_PYTHON" -m pip --python .venv/bin/python --version >/dev/null 2>&1 \
    || .venv/bin/python -m ensurepip --upgrade --default-pip >/dev/null
}

installer_name() {
  if grep -q '^--- uv pip install' .venv/install.log 2>/dev/null && ! grep -q '^--- uv failed' .venv/install.log; then
    echo uv
  else
    echo pip
  fi
}

# base_python: a Python 3.11 or newer to create .venv with (PYTHON_FOR_VENV first)
base_python() {
  local candidate
  for candidate in ${PYTHON_FOR_VENV:-} python3 python3.14 python3.13 python3.12 python3.11; do
    if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      echo "$candidate"; return
    fi
  done
  die "Python 3.11 or newer is required (found: $(python3 --version 2>&1 || echo none)); set PYTHON_FOR_VENV to its path"
}

ensure_environment() {
  if active_env_has_package; then
    PYTHON="$(command -v python)"
    return
  fi
  BASE_PYTHON="$(base_python)" || exit 2
  if [[ ! -x .venv/bin/python ]]; then
    echo "==> creating virtual environment .venv ($("$BASE_PYTHON" --version))"
    create_venv || { rm -rf .venv; die "could not create .venv (on Debian/Ubuntu: apt install python3-venv)"; }
  fi
  PYTHON="$ROOT/.venv/bin/python"
  local stamp=".venv/.installed-$(cat pyproject.toml requirements-lock.txt | sha256sum | cut -c1-16)"
  if [[ ! -f "$stamp" ]]; then
    # the pinned versions of requirements-lock.txt, nothing resolved, while it matches pyproject.toml
    local install=(--no-deps -r requirements-lock.txt -e ".[test]") how="the pinned versions of requirements-lock.txt"
    if ! "$PYTHON" scripts/lock_requirements.py --check; then
      install=(-e ".[test]") how="versions resolved now"
    fi
    echo "==> installing kokoro-analysis and its dependencies into .venv, $how (log: .venv/install.log)"
    step "installing" .venv/install.log venv_install "${install[@]}" \
      || { tail -n 20 .venv/install.log >&2; die "installing the package failed (full log: .venv/install.log)"; }
    echo "    installed in ${STEP_SECONDS} s (with $(installer_name))"
    rm -f .venv/.installed-* && touch "$stamp"
    compile_notebook_libraries &
  fi
  local extras="${KOKORO_EXTRAS:-}"
  if [[ -n "$extras" && ! -f "$stamp-${extras//,/-}" ]]; then
    echo "==> installing the optional extra(s) $extras into .venv (log: .venv/install-extras.log)"
    step "installing $extras" .venv/install-extras.log "$PYTHON" -m pip install -e ".[test,$extras]" \
      || { tail -n 20 .venv/install-extras.log >&2; die "installing the extra(s) $extras failed (full log: .venv/install-extras.log)"; }
    echo "    the extra(s) $extras installed in ${STEP_SECONDS} s"
    touch "$stamp-${extras//,/-}"
  fi
}

# Notebook outputs never reach git: nbstripout as the clean filter of *.ipynb (.gitattributes), keeping
# cell ids, tags and the kernelspec. Only in a plain clone (a linked worktree shares its main clone's
# .git/config) and only when this environment has nbstripout.
install_notebook_filter() {
  local git_dir common_dir clean
  git_dir="$(git -C "$ROOT" rev-parse --absolute-git-dir 2>/dev/null)" || return 0
  common_dir="$(cd "$ROOT" && cd "$(git rev-parse --git-common-dir)" && pwd)"
  [[ "$git_dir" == "$common_dir" ]] || return 0
  "$PYTHON" -c 'import importlib.util, sys; sys.exit(not importlib.util.find_spec("nbstripout"))' \
    2>/dev/null || return 0  # found, not imported: importing it first costs a first run 1 s
  clean="'$PYTHON' -m nbstripout --keep-id"
  [[ "$(git -C "$ROOT" config --get filter.nbstripout.clean)" == "$clean" ]] && return 0
  git -C "$ROOT" config filter.nbstripout.clean "$clean"
  git -C "$ROOT" config filter.nbstripout.smudge cat
  git -C "$ROOT" config diff.ipynb.textconv "$clean -t"
  echo "==> git strips notebook outputs on commit from now on (nbstripout filter set in .git/config)"
}

# JupyterLab started from the project's .venv saves this checkout's notebooks without outputs
# (kokoro_analysis.notebook.strip_outputs_before_save), so open / run / save leaves git status clean.
enable_save_hook() {
  [[ "$PYTHON" == "$ROOT/.venv/bin/python" ]] || return 0
  "$PYTHON" - "$ROOT/.venv/etc/jupyter/jupyter_server_config.json" <<'PY'
import json, sys
from pathlib import Path
path = Path(sys.argv[1])
config = json.loads(path.read_text()) if path.exists() else {}
hook = "kokoro_analysis.notebook.strip_outputs_before_save"
if config.get("ContentsManager", {}).get("pre_save_hook") != hook:
    config.setdefault("ContentsManager", {})["pre_save_hook"] = hook
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(config, indent=2) + "\n")
PY
}

# --- arguments --------------------------------------------------------------------------------------
if [[ "${1:-}" == -h || "${1:-}" == --help ]]; then
  base="$(base_python)" || exit 2
  usage
  echo
  # the options, without setting up anything: the CLI's --help imports only the standard library
  PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}" "$base" -m kokoro_analysis.cli run --help
  exit
fi

ensure_environment
install_notebook_filter
enable_save_hook

if [[ "${1:-}" == --test ]]; then
  shift
  # the tests run with other working directories: make the data locations absolute
  for variable in KOKOROCHAT_DATA KOKORO_PEERS_DIR KOKOROCHAT_TRANSLATIONS; do
    value="${!variable:-}"
    if [[ -n "$value" && -d "$value" ]]; then export "$variable=$(cd "$value" && pwd)"; fi
  done
  echo "==> running the tests ($("$PYTHON" --version))"
  exec "$PYTHON" -m pytest "$@"
fi
exec "$PYTHON" -m kokoro_analysis.cli run "$@"
