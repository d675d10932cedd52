#!/usr/bin/env bash
# Reproduce every table and figure of the KokoroChat paper from the raw data, or run the tests.
#
#   ./run_all.sh                      run every notebook in notebooks/ (in order) with papermill
#   ./run_all.sh --test [PYTEST ARGS] run the test suite
#
# Options (notebook runs):
#   --data PATH         KokoroChat data (default: $KOKOROCHAT_DATA, data/KokoroChat, else a fresh clone)
#   --only NAME         run only notebooks whose name contains NAME (repeatable)
#   --output-dir DIR    where figures/, tables/, reports/ and executed/ go (default: the project root)
#   -p NAME VALUE       pass a parameter to every notebook (papermill -p), e.g. -p subset high
#   -h, --help          this help
#
# Without an active environment that has this checkout's package installed, a virtual environment is
# created in .venv and the package installed into it (again whenever pyproject.toml changes).
# KOKORO_EXTRAS=llm (comma-separated optional extras) installs those extras too, e.g. for the model
# tests (tests marked llm; CI sets it) and prints how long their install took.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"

die() { echo "run_all.sh: $*" >&2; exit 2; }
usage() { sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; }

# --- environment ------------------------------------------------------------------------------------
active_env_has_package() {
  [[ -n "${VIRTUAL_ENV:-}${CONDA_PREFIX:-}" ]] || return 1
  python - "$ROOT" <<'PY' 2>/dev/null
import os, sys
import kokoro_analysis
sys.exit(0 if os.path.realpath(kokoro_analysis.__file__).startswith(os.path.realpath(sys.argv[1])) else 1)
PY
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
    echo "==> installing kokoro-analysis and its dependencies into .venv"
    "$PYTHON" -m pip install --quiet --upgrade pip || die "pip upgrade failed"
    "$PYTHON" -m pip install --quiet -e ".[test]" || die "installing the package failed (see pip's output above)"
    rm -f .venv/.installed-* && touch "$stamp"
  fi
  local extras="${KOKORO_EXTRAS:-}"
  if [[ -n "$extras" && ! -f "$stamp-${extras//,/-}" ]]; then
    echo "==> installing the optional extra(s) $extras into .venv"
    local started=$SECONDS
    "$PYTHON" -m pip install --quiet -e ".[test,$extras]" || die "installing the extra(s) $extras failed (see pip's output above)"
    echo "==> the extra(s) $extras installed in $((SECONDS - started)) s"
    touch "$stamp-${extras//,/-}"
  fi
}

# --- arguments --------------------------------------------------------------------------------------
MODE=notebooks
ONLY=()
PARAMS=()
OUTPUT_DIR="$ROOT"
PYTEST_ARGS=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --test) MODE=test; shift; PYTEST_ARGS=("$@"); break ;;
    --data) [[ $# -ge 2 ]] || die "--data needs a path"; export KOKOROCHAT_DATA="$(cd "$2" 2>/dev/null && pwd || echo "$2")"; shift 2 ;;
    --only) [[ $# -ge 2 ]] || die "--only needs a name"; ONLY+=("$2"); shift 2 ;;
    --output-dir) [[ $# -ge 2 ]] || die "--output-dir needs a folder"; mkdir -p "$2"; OUTPUT_DIR="$(cd "$2" && pwd)"; shift 2 ;;
    -p|--parameters) [[ $# -ge 3 ]] || die "-p needs NAME VALUE"; PARAMS+=(-p "$2" "$3"); shift 3 ;;
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

if [[ "$MODE" == test ]]; then
  echo "==> running the tests ($("$PYTHON" --version))"
  exec "$PYTHON" -m pytest "${PYTEST_ARGS[@]}"
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

echo "==> checking the data"
"$PYTHON" -m kokoro_analysis.cli validate --show 10 || die "the data did not validate (see above); fix it or pass --data"
echo "==> warming the token cache"
"$PYTHON" -m kokoro_analysis.cli tokenize $([[ -t 1 ]] || echo --quiet) || die "tokenization failed"

mkdir -p "$OUTPUT_DIR/executed"
progress_flags=(--log-output --no-progress-bar)
[[ -t 1 ]] && progress_flags=(--progress-bar)
names=(); seconds=(); statuses=(); failed=()
total=${#selected[@]}; index=0
for notebook in "${selected[@]}"; do
  index=$((index + 1))
  name="$(basename "$notebook" .ipynb)"
  echo "==> [$index/$total] $name"
  started=$(date +%s)
  if "$PYTHON" -m papermill "$notebook" "$OUTPUT_DIR/executed/$name.ipynb" \
      --cwd notebooks -p output_dir "$OUTPUT_DIR" "${PARAMS[@]}" "${progress_flags[@]}"; then
    status=ok
  else
    status=FAILED; failed+=("$name")
  fi
  names+=("$name"); seconds+=($(( $(date +%s) - started ))); statuses+=("$status")
done

echo
echo "==> reproduction report"
"$PYTHON" -m kokoro_analysis.cli report --output-dir "$OUTPUT_DIR"
report_status=$?

echo
printf '%-32s %8s  %s\n' notebook seconds status
for i in "${!names[@]}"; do printf '%-32s %8s  %s\n' "${names[$i]}" "${seconds[$i]}" "${statuses[$i]}"; done
echo "outputs: $OUTPUT_DIR/{figures,tables,reports,executed}"

if [[ ${#failed[@]} -gt 0 ]]; then
  echo "run_all.sh: failed notebook(s): ${failed[*]} (executed copies with the error are in $OUTPUT_DIR/executed/)" >&2
  exit 1
fi
if [[ $report_status -ne 0 ]]; then
  echo "run_all.sh: the reproduction report has quantities that should match but do not (see $OUTPUT_DIR/reports/reproduction.md)" >&2
  exit 1
fi
