#!/usr/bin/env bash
# The model commands' CUDA paths in a few minutes, on any machine with a GPU and the llm extra
# (pip install -e ".[llm]" bitsandbytes; vLLM optional): the smoke model on synthetic sessions (no
# download, no KokoroChat data needed) through QLoRA fine-tuning in 4 bit with the GPU's dtype,
# generation with the adapter, multi-GPU DDP when several GPUs are visible, and the vLLM engine
# when vLLM is installed. It prints each check as "ok" or "FAILED" and exits 1 if any failed.
#
#   scripts/gpu_check.sh [WORK_DIR]      # default: a temporary folder, removed at the end
#
# None of this could be run where the project is developed (no GPU there): the CPU versions of the
# same steps are the llm tests.
set -uo pipefail

work="${1:-$(mktemp -d)}"
[[ $# -ge 1 ]] || trap 'rm -rf "$work"' EXIT
export HF_HUB_OFFLINE=1 KOKORO_ANALYSIS_CACHE="$work/cache"
failed=0
check() {  # check "what" command...
  local what="$1"; shift
  if "$@" >"$work/log.txt" 2>&1; then
    echo "ok      $what"
  else
    echo "FAILED  $what (last lines below; full log: $work/log.txt)"
    tail -n 15 "$work/log.txt" | sed 's/^/        /'
    failed=1
  fi
}
manifest() {  # manifest FOLDER PYTHON-EXPRESSION over m (the finetune manifest)
  python - "$1" "$2" <<'EOF'
import json, sys
m = json.load(open(f"{sys.argv[1]}/finetune_manifest.json", encoding="utf-8"))
assert eval(sys.argv[2]), (sys.argv[2], m["effective"])
print(m["effective"])
EOF
}

started=$SECONDS
check "CUDA is visible to torch" python -c "import torch; assert torch.cuda.is_available(); print(torch.cuda.get_device_name(0))"
check "bitsandbytes is installed" python -c "import bitsandbytes"
gpus=$(python -c "import torch; print(torch.cuda.device_count())" 2>/dev/null || echo 0)
check "synthetic sessions" python -c "from kokoro_analysis.corpus.synthetic import write_synthetic_corpus as w; w('$work/data', n_sessions=60, seed=0)"
check "smoke model" kokoro-analysis smoke-model --out "$work/smoke"
data=(--data "$work/data")
check "finetune: QLoRA 4-bit NF4 on CUDA, global batch 4" \
  kokoro-analysis finetune "${data[@]}" --device cuda --base-model "$work/smoke" --subset high \
  --out "$work/adapter" --max-steps 4 --limit 32 --global-batch 4 --logging-steps 1
check "manifest: 4-bit, CUDA, bf16 where supported (else fp16)" manifest "$work/adapter" \
  "m['effective']['quantize'] == '4bit' and m['effective']['device'] == 'cuda' and m['effective']['dtype'] in ('bfloat16', 'float16')"
check "generate: HF engine, 4-bit, with the adapter" \
  kokoro-analysis generate "${data[@]}" --device cuda --quantize 4bit --model "$work/smoke" \
  --adapter "$work/adapter" --out "$work/predictions/hf.jsonl" --limit 8 --max-new-tokens 16 --quiet
check "evaluate the HF predictions" kokoro-analysis evaluate "${data[@]}" --predictions "$work/predictions/hf.jsonl"
if [[ "$gpus" -ge 2 ]]; then
  check "finetune: DDP on $gpus GPUs through accelerate, same global batch" \
    accelerate launch --multi_gpu --num_processes "$gpus" -m kokoro_analysis.cli finetune "${data[@]}" \
    --device cuda --base-model "$work/smoke" --subset high --out "$work/adapter-ddp" --max-steps 4 \
    --limit 32 --global-batch 4 --logging-steps 1
  check "DDP manifest: $gpus processes, global batch 4" manifest "$work/adapter-ddp" \
    "m['effective']['processes'] == $gpus and m['effective']['global_batch_size'] == 4"
else
  echo "skipped DDP (one GPU visible)"
fi
if python -c "import vllm" 2>/dev/null; then
  # the smoke model's heads are tiny (size 8); VLLM_MODEL may name a small real model instead
  model="${VLLM_MODEL:-$work/smoke}"
  check "generate: vLLM engine ($model)" \
    kokoro-analysis generate "${data[@]}" --device cuda --engine vllm --model "$model" \
    --out "$work/predictions/vllm.jsonl" --limit 8 --max-new-tokens 16 --quiet
  check "evaluate the vLLM predictions" kokoro-analysis evaluate "${data[@]}" --predictions "$work/predictions/vllm.jsonl"
else
  echo "skipped vLLM (not installed: pip install -e \".[vllm]\")"
fi
echo "gpu_check: $((SECONDS - started)) s; $([[ $failed == 0 ]] && echo 'every check passed' || echo 'some checks FAILED')"
exit "$failed"
