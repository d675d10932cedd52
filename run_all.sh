#!/usr/bin/env bash
# Reproduce every table and figure of the KokoroChat paper from the raw data, or run the tests.
#
#   ./run_all.sh                      run every notebook in notebooks/ with papermill (-j at a time)
#   ./run_all.sh --test [PYTEST ARGS] run the test suite
#
# Options (notebook runs):
#   --data PATH         KokoroChat data (default: $KOKOROCHAT_DATA, data/KokoroChat, else a fresh clone)
#   --only NAME         run only notebooks whose name contains NAME (repeatable)
#   --output-dir DIR    where figures/, tables/, reports/ and executed/ go (default: the project root)
#   -p NAME VALUE       pass a parameter to every notebook (papermill -p), e.g. -p subset high
#   -j, --jobs N        notebooks run at once once the caches are warm (default: the number of cores)
#   --lenient           skip sessions with problems (counted and reported) instead of stopping
#   --models            first run the released models into predictions/ (kokoro-analysis
#                       reproduce-models: a GPU, the llm extra, resumable), then notebook 04
#   --version           print the package version
#   -h, --help          this help
#
# Without an active environment that has this checkout's package installed, a virtual environment is
# created in .venv and the package installed into it (again whenever pyproject.toml changes). In a git
# clone it also sets up the nbstripout filter in .git/config, so notebook outputs never reach git.
# Terminal output stays short; each step's full output goes to OUTPUT_DIR/logs/ (the path is printed).
# KOKORO_EXTRAS=llm (comma-separated optional extras) installs those extras too, e.g. for the model
# tests (tests marked llm; CI sets it) and prints how long their install took.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"

die() { echo "run_all.sh: $*" >&2; exit 2; }
usage() { sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; }

# output_folder DIR: DIR made absolute, created if missing; refuses (exit 2) a file, a path under a
# file, a folder that cannot be created or written, before anything runs.
output_folder() {
  local dir="$1" probe
  [[ -n "$dir" ]] || die "--output-dir needs a folder"
  [[ ! -e "$dir" || -d "$dir" ]] || die "--output-dir $dir is not a folder (a file of that name exists)"
  mkdir -p -- "$dir" 2>/dev/null || die "--output-dir $dir cannot be created ($(mkdir -p -- "$dir" 2>&1 | sed 's/^mkdir: //'))"
  probe="$dir/.run_all-write-test-$$"
  { : >"$probe"; } 2>/dev/null || die "--output-dir $dir is not writable; choose a folder you can write to"
  rm -f -- "$probe"
  (cd -- "$dir" && pwd)
}

# failure_reason LOG: the last error line of a failed notebook's log (the exception and its message)
failure_reason() {
  sed 's/\x1b\[[0-9;]*m//g' "$1" 2>/dev/null \
    | grep -E '^[A-Za-z_][A-Za-z0-9_.]*(Error|Exception|Interrupt|Exit)\b' | tail -n 1 | cut -c1-300
}

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
venv_install() {
  if [[ "${KOKORO_INSTALLER:-uv}" != pip ]] \
    && { "$PYTHON" -m uv --version >/dev/null 2>&1 || "$PYTHON" -m pip install --quiet uv; }; then
    echo "--- uv pip install $*"
    local settings=() pair
    for pair in INDEX_URL EXTRA_INDEX_URL FIND_LINKS; do
      local from="PIP_$pair" to="UV_$pair"
      [[ -n "${!from:-}" && -z "${!to:-}" ]] && settings+=("$to=${!from}")
    done
    # pip's certificate bundle (PIP_CERT or pip's config), e.g. a proxy's CA, is uv's too
    local cert="${PIP_CERT:-$("$PYTHON" -m pip config list 2>/dev/null | sed -n "s/^global\.cert='\(.*\)'$/\1/p")}"
    [[ -z "${SSL_CERT_FILE:-}" && -n "$cert" && -f "$cert" ]] && settings+=("SSL_CERT_FILE=$cert")
    env "${settings[@]}" "$PYTHON" -m uv pip install --python "$PYTHON" "$@" && return 0
    echo "--- uv failed; installing with pip instead"
  fi
  "$PYTHON" -m pip install --upgrade pip && "$PYTHON" -m pip install "$@"
}

installer_name() {
  if grep -q '^--- uv pip install' .venv/install.log 2>/dev/null && ! grep -q '^--- uv failed' .venv/install.log; then
    echo uv
  else
    echo pip
  fi
}

ensure_environment() {
  if active_env_has_package; then
    PYTHON="$(command -v python)"
    return
  fi
  local base="" candidate
  for candidate in ${PYTHON_FOR_VENV:-} python3 python3.14 python3.13 python3.12 python3.11; do
    if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      base="$candidate"; break
    fi
  done
  [[ -n "$base" ]] || die "Python 3.11 or newer is required (found: $(python3 --version 2>&1 || echo none)); set PYTHON_FOR_VENV to its path"
  if [[ ! -x .venv/bin/python ]]; then
    echo "==> creating virtual environment .venv ($("$base" --version))"
    "$base" -m venv .venv || die "could not create .venv (on Debian/Ubuntu: apt install python3-venv)"
  fi
  PYTHON="$ROOT/.venv/bin/python"
  local stamp=".venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)"
  if [[ ! -f "$stamp" ]]; then
    echo "==> installing kokoro-analysis and its dependencies into .venv (a few minutes; log: .venv/install.log)"
    step "installing" .venv/install.log venv_install -e ".[test]" \
      || { tail -n 20 .venv/install.log >&2; die "installing the package failed (full log: .venv/install.log)"; }
    echo "    installed in ${STEP_SECONDS} s (with $(installer_name))"
    rm -f .venv/.installed-* && touch "$stamp"
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
  "$PYTHON" -c 'import nbstripout' 2>/dev/null || return 0
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
MODE=notebooks
ONLY=()
PARAMS=()
OUTPUT_DIR="$ROOT"
PYTEST_ARGS=()
JOBS=""
LENIENT=()
SHOW_VERSION=0
MODELS=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --test) MODE=test; shift; PYTEST_ARGS=("$@"); break ;;
    --data) [[ $# -ge 2 ]] || die "--data needs a path"; [[ -e "$2" ]] || die "--data $2: KokoroChat data not found: $2 does not exist"
      export KOKOROCHAT_DATA="$(cd "$2" 2>/dev/null && pwd || echo "$2")"; shift 2 ;;
    --only) [[ $# -ge 2 ]] || die "--only needs a name"; ONLY+=("$2"); shift 2 ;;
    --output-dir) [[ $# -ge 2 ]] || die "--output-dir needs a folder"; OUTPUT_DIR="$(output_folder "$2")" || exit 2; shift 2 ;;
    -p|--parameters) [[ $# -ge 3 ]] || die "-p needs NAME VALUE"; PARAMS+=(-p "$2" "$3"); shift 3 ;;
    -j|--jobs) [[ $# -ge 2 && "$2" =~ ^[1-9][0-9]*$ ]] || die "$1 needs a number of notebooks (1 or more)"; JOBS="$2"; shift 2 ;;
    --lenient) LENIENT=(--lenient); shift ;;
    --models) MODELS=1; shift ;;
    --version) SHOW_VERSION=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown option: $1" ;;
  esac
done

# Notebooks and tests run with other working directories: make data locations absolute.
for variable in KOKOROCHAT_DATA KOKORO_PEERS_DIR KOKOROCHAT_TRANSLATIONS; do
  value="${!variable:-}"
  if [[ -n "$value" && -d "$value" ]]; then export "$variable=$(cd "$value" && pwd)"; fi
done

ensure_environment
install_notebook_filter
enable_save_hook
if [[ $SHOW_VERSION == 1 ]]; then exec "$PYTHON" -m kokoro_analysis.cli --version; fi

if [[ "$MODE" == test ]]; then
  echo "==> running the tests ($("$PYTHON" --version))"
  exec "$PYTHON" -m pytest "${PYTEST_ARGS[@]}"
fi

if [[ $MODELS == 1 ]]; then
  echo "==> the released models' predictions files (kokoro-analysis reproduce-models)"
  "$PYTHON" -m kokoro_analysis.cli reproduce-models || die "the model runs stopped (run again to continue)"
  [[ ${#ONLY[@]} -gt 0 ]] || ONLY=(04)
fi

# --- notebooks --------------------------------------------------------------------------------------
selected=()
for notebook in notebooks/[0-9]*.ipynb; do
  name="$(basename "$notebook" .ipynb)"
  if [[ ${#ONLY[@]} -gt 0 ]]; then
    keep=0
    for pattern in "${ONLY[@]}"; do [[ "$name" == *"$pattern"* ]] && keep=1; done
    [[ $keep == 1 ]] || continue
  fi
  selected+=("$notebook")
done
[[ ${#selected[@]} -gt 0 ]] || die "no notebook matches --only ${ONLY[*]:-}"

LOG_DIR="$OUTPUT_DIR/logs"
mkdir -p "$OUTPUT_DIR/executed" "$LOG_DIR"
rm -f "$LOG_DIR"/*.status

# Longest first (by the seconds each took last time, in logs/durations.tsv; never run: first, by name),
# so that -j N packs the notebooks tightly: a long one started last would finish alone.
declare -A previous=()
if [[ -f "$LOG_DIR/durations.tsv" ]]; then
  while read -r name secs; do [[ "$secs" =~ ^[0-9]+$ ]] && previous[$name]=$secs; done <"$LOG_DIR/durations.tsv"
fi
queue=()
while read -r _ notebook; do queue+=("$notebook"); done < <(
  for notebook in "${selected[@]}"; do
    echo "${previous[$(basename "$notebook" .ipynb)]:-999999} $notebook"
  done | sort -k1,1nr -k2,2 -s
)
[[ ${#LENIENT[@]} -gt 0 ]] && PARAMS+=(-p lenient True)
CORES="$("$PYTHON" -c 'from kokoro_analysis.workers import available_cores; print(available_cores())' 2>/dev/null || echo 1)"
JOBS="${JOBS:-$CORES}"
echo "==> logs: $LOG_DIR/"

# The raw-file check and the token cache run side by side (the cache loads the data strictly too); the
# check's verdict is reported first. Without any data the check runs alone first, as it clones the data.
validate=("$PYTHON" -m kokoro_analysis.cli validate --show 10 "${LENIENT[@]}")
validate_pid=""
if [[ -z "${KOKOROCHAT_DATA:-}" && ! -e data/KokoroChat ]]; then
  step "checking the data (cloning it first)" "$LOG_DIR/validate.log" "${validate[@]}"; validate_status=$?
else
  "${validate[@]}" >"$LOG_DIR/validate.log" 2>&1 &
  validate_pid=$!
fi
step "warming the token cache" "$LOG_DIR/tokenize.log" "$PYTHON" -m kokoro_analysis.cli tokenize "${LENIENT[@]}"
tokenize_status=$?
[[ -z "$validate_pid" ]] || { wait "$validate_pid"; validate_status=$?; }
((validate_status == 0)) \
  || { cat "$LOG_DIR/validate.log" >&2; die "the data did not validate (see above); fix it, pass --data, or --lenient to skip bad sessions"; }
echo "==> checked the data: $(grep -m1 -iE 'sessions|skipped' "$LOG_DIR/validate.log")"
((tokenize_status == 0)) \
  || { tail -n 20 "$LOG_DIR/tokenize.log" >&2; die "tokenization failed (full log: $LOG_DIR/tokenize.log)"; }
echo "==> token cache ready in ${STEP_SECONDS} s: $(tail -n 1 "$LOG_DIR/tokenize.log" | tr '\r' '\n' | tail -n 1)"

# run_notebook NOTEBOOK: papermill with the output in logs/NAME.log; writes "STATUS SECONDS" to logs/NAME.status
run_notebook() {
  local name started=$SECONDS status=ok
  name="$(basename "$1" .ipynb)"
  "$PYTHON" -m papermill "$1" "$OUTPUT_DIR/executed/$name.ipynb" --cwd notebooks -p output_dir "$OUTPUT_DIR" \
    "${PARAMS[@]}" --log-output --no-progress-bar >"$LOG_DIR/$name.log" 2>&1 || status=FAILED
  # written whole, then renamed: the loop below polls for the file and must never read it half-written
  echo "$status $((SECONDS - started))" >"$LOG_DIR/$name.status.tmp"
  mv "$LOG_DIR/$name.status.tmp" "$LOG_DIR/$name.status"
}

total=${#selected[@]}
# Each notebook gets its share of the cores, for its worker processes and its BLAS/OpenMP threads: N
# notebooks each using every core would oversubscribe the machine (a user's own settings are kept).
share=$((CORES / (JOBS < total ? JOBS : total))); ((share >= 1)) || share=1
export KOKORO_CORES="$share"
for variable in OMP_NUM_THREADS OPENBLAS_NUM_THREADS MKL_NUM_THREADS; do
  [[ -n "${!variable:-}" ]] || export "$variable=$share"
done
echo "==> running $total notebook(s), $JOBS at a time ($share core(s) each)"
declare -A running=()
next=0; finished=0; started_all=$SECONDS; last_tick=0
while ((next < total || ${#running[@]} > 0)); do
  while ((next < total && ${#running[@]} < JOBS)); do
    name="$(basename "${queue[$next]}" .ipynb)"
    run_notebook "${queue[$next]}" &
    running[$name]=$!
    next=$((next + 1))
  done
  sleep 0.2
  for name in "${!running[@]}"; do
    [[ -f "$LOG_DIR/$name.status" ]] || continue
    wait "${running[$name]}"; unset "running[$name]"
    finished=$((finished + 1))
    read -r status secs <"$LOG_DIR/$name.status"
    [[ -t 1 ]] && printf '\r\033[K'
    if [[ $status == ok ]]; then
      echo "    [$finished/$total] $name: ok in $secs s"
    else
      reason="$(failure_reason "$LOG_DIR/$name.log")"
      echo "    [$finished/$total] $name: failed after $secs s${reason:+: $reason} (log: $LOG_DIR/$name.log)"
    fi
  done
  elapsed=$((SECONDS - started_all))
  if [[ -t 1 && ${#running[@]} -gt 0 ]]; then
    printf '\r    running: %s ... %d s' "${!running[*]}" "$elapsed"
  elif [[ ${#running[@]} -gt 0 ]] && ((elapsed - last_tick >= 30)); then
    last_tick=$elapsed; echo "    ... running: ${!running[*]} ($elapsed s)"
  fi
done

step "gathering the reproduction report" "$LOG_DIR/report.log" "$PYTHON" -m kokoro_analysis.cli report --output-dir "$OUTPUT_DIR"
report_status=$?

echo
printf '%-32s %8s  %s\n' notebook seconds status
failed=()
for notebook in "${selected[@]}"; do
  name="$(basename "$notebook" .ipynb)"
  read -r status secs <"$LOG_DIR/$name.status"
  printf '%-32s %8s  %s\n' "$name" "$secs" "$status"
  [[ $status == ok ]] || failed+=("$name")
  [[ $status != ok ]] || previous[$name]=$secs  # a failed run's time says nothing of a full one
done
for name in "${!previous[@]}"; do echo "$name ${previous[$name]}"; done | sort >"$LOG_DIR/durations.tsv.tmp"
mv "$LOG_DIR/durations.tsv.tmp" "$LOG_DIR/durations.tsv"
[[ $report_status -eq 2 ]] || cat "$LOG_DIR/report.log"  # 2: no part to gather (said below)
if [[ ${#PARAMS[@]} -gt 0 ]]; then
  settings=(); for ((i = 0; i < ${#PARAMS[@]}; i += 3)); do settings+=("${PARAMS[i+1]}=${PARAMS[i+2]}"); done
  echo "non-default parameters: ${settings[*]} (the paper's numbers assume the defaults)"
fi
echo "outputs: $OUTPUT_DIR/{figures,tables,reports,executed}; logs: $LOG_DIR/"

if [[ ${#failed[@]} -gt 0 ]]; then
  echo "run_all.sh: failed notebook(s): ${failed[*]} (executed copies with the error are in $OUTPUT_DIR/executed/)" >&2
  exit 1
fi
if [[ $report_status -eq 2 ]]; then
  echo "no reproduction report: the notebook(s) run write no number the paper reports"
elif [[ $report_status -ne 0 ]]; then
  echo "run_all.sh: the reproduction report has quantities that should match but do not (see $OUTPUT_DIR/reports/reproduction.md)" >&2
  exit 1
fi
