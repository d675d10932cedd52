"""Causal language models for generation, score prediction and fine-tuning: loading, devices, versions,
and the smoke model (a tiny randomly initialised model built locally, for trying the pipeline).

The heavy libraries (torch, transformers, peft, trl, accelerate, datasets) are the ``llm`` extra:
``pip install -e ".[llm]"``. They are imported inside the functions, so the default install stays
light and a missing extra ends in one line (:class:`LLMError`) that says how to get it.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import platform
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from kokoro_analysis.paths import atomic_target

LLM_PACKAGES = ("torch", "transformers", "peft", "trl", "accelerate", "datasets")
"""The packages of the ``llm`` extra (bitsandbytes is optional: 4-bit loading on CUDA only)."""
INSTALL_HINT = 'pip install -e ".[llm]"'
DEVICES = ("auto", "cpu", "cuda")
QUANTIZATIONS = ("4bit", "none")

SMOKE_SPECIAL_TOKENS = (
    "<|begin_of_text|>",
    "<|end_of_text|>",
    "<|start_header_id|>",
    "<|end_header_id|>",
    "<|eot_id|>",
    "<|pad|>",
)
SMOKE_CHAT_TEMPLATE = (
    "{{- bos_token }}"
    "{%- for message in messages %}"
    "{{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' }}"
    "{%- if message['role'] == 'assistant' %}"
    "{%- generation %}{{- message['content'] | trim + '<|eot_id|>' }}{%- endgeneration %}"
    "{%- else %}{{- message['content'] | trim + '<|eot_id|>' }}{%- endif %}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{%- endif %}"
)
"""The smoke model's chat template: the Llama 3 layout (as the paper's base model), with
``{% generation %}`` markers around assistant turns so TRL can also mask by assistant turn."""


class LLMError(ValueError):
    """A model run that cannot proceed (missing extra, model not found offline, out of memory);
    the message is one line that says what to do."""


def warn(message: str) -> None:
    """A one-line warning on standard error (``kokoro-analysis: warning: ...``)."""
    print(f"kokoro-analysis: warning: {message}", file=sys.stderr, flush=True)


def require_llm() -> None:
    """Raise :class:`LLMError` naming the missing packages when the ``llm`` extra is not installed."""
    missing = [name for name in LLM_PACKAGES if importlib.util.find_spec(name) is None]
    if missing:
        raise LLMError(
            f"model runs need the llm extra (missing: {', '.join(missing)}): {INSTALL_HINT}"
        )


def library_versions() -> dict[str, str | None]:
    """Versions of Python, this package and the ``llm`` libraries (None when not installed), and the
    CUDA device name when one is used."""
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for name in ("kokoro-analysis", *LLM_PACKAGES, "bitsandbytes"):
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    import torch

    versions["cuda_device"] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return versions


def resolve_device(requested: str = "auto") -> str:
    """``"cuda"`` or ``"cpu"``. ``auto`` takes CUDA when present, else the CPU with a warning about time;
    ``cuda`` without a GPU is an :class:`LLMError`."""
    if requested not in DEVICES:
        raise LLMError(f"device must be one of {', '.join(DEVICES)}, not {requested!r}")
    import torch

    if requested == "cpu":
        return "cpu"
    if torch.cuda.is_available():
        return "cuda"
    if requested == "cuda":
        raise LLMError(
            "--device cuda was asked for but no CUDA GPU is visible (torch.cuda.is_available() is "
            "False); use --device cpu or auto"
        )
    warn(
        "no CUDA GPU: running on the CPU. Fine for the smoke model; an 8B model takes hours per "
        "hundred contexts there"
    )
    return "cpu"


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on")


def load_pretrained(loader, name: str, what: str, **kwargs):
    """``loader.from_pretrained(name)``: a local folder or the Hugging Face cache first, then the hub
    (unless ``HF_HUB_OFFLINE``); a failure is an :class:`LLMError` saying how to get the files."""
    if Path(name).expanduser().is_dir():
        return loader.from_pretrained(str(Path(name).expanduser()), **kwargs)
    try:
        return loader.from_pretrained(name, local_files_only=True, **kwargs)
    except OSError:
        if _offline():
            error: Exception | None = None
        else:
            try:
                return loader.from_pretrained(name, **kwargs)
            except OSError as exc:
                error = exc
    reason = f" ({str(error).splitlines()[0]})" if error else " (HF_HUB_OFFLINE is set)"
    raise LLMError(
        f"{what} {name!r} is not a local folder nor in the Hugging Face cache, and could not be "
        f"downloaded{reason}: on a machine with network run `hf download {name}`, or pass a local "
        f"folder"
    )


def load_tokenizer(name: str, *, padding_side: str = "left"):
    """The tokenizer of ``name`` (folder or hub id) with a pad token (its eos when it has none)."""
    from transformers import AutoTokenizer

    tokenizer = load_pretrained(AutoTokenizer, name, "tokenizer of", padding_side=padding_side)
    if tokenizer.chat_template is None:
        raise LLMError(
            f"the tokenizer of {name!r} has no chat template; use an instruction-tuned model"
        )
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def effective_quantization(requested: str, device: str) -> str:
    """``"4bit"`` only where CUDA and bitsandbytes exist; otherwise ``"none"`` (with a warning when 4-bit
    was asked for)."""
    if requested not in QUANTIZATIONS:
        raise LLMError(f"quantize must be one of {', '.join(QUANTIZATIONS)}, not {requested!r}")
    if requested == "none":
        return "none"
    if device != "cuda":
        warn("4-bit quantization needs a CUDA GPU: loading the model unquantized on the CPU")
        return "none"
    if importlib.util.find_spec("bitsandbytes") is None:
        raise LLMError(
            "--quantize 4bit needs bitsandbytes, which is not installed: pip install bitsandbytes "
            "(or pass --quantize none to load the model unquantized)"
        )
    return "4bit"


def model_dtype(device: str):
    """bfloat16 on a GPU that supports it (float16 otherwise), float32 on the CPU."""
    import torch

    if device == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.float32


def load_model(
    name: str, *, adapter: str | None = None, device: str = "cpu", quantize: str = "none"
):
    """The causal LM ``name`` (folder or hub id) on ``device`` (``resolve_device``), 4-bit NF4 when
    ``quantize="4bit"`` (``effective_quantization``), with the LoRA ``adapter`` folder applied when
    given (a local folder or a hub id, :func:`adapter_source`); in evaluation mode."""
    from transformers import AutoModelForCausalLM

    kwargs = {"dtype": model_dtype(device)}
    if quantize == "4bit":
        kwargs["quantization_config"] = bnb_config(kwargs["dtype"])
        kwargs["device_map"] = {"": local_gpu()}
    model = load_pretrained(AutoModelForCausalLM, name, "model", **kwargs)
    if quantize != "4bit":
        model = model.to(device)
    if adapter:
        from peft import PeftModel

        model = load_pretrained(
            _AdapterLoader(PeftModel, model), adapter_source(adapter), "LoRA adapter"
        )
    model.eval()
    return model


def adapter_source(adapter: str | os.PathLike) -> str:
    """A local adapter folder (absolute; it must hold ``adapter_config.json``) or a hub id as given.
    A path that exists but is no adapter folder, or that looks like a path and does not exist, is
    an :class:`LLMError`."""
    text = str(adapter)
    folder = Path(text).expanduser()
    if folder.exists() or text.startswith((".", "/", "~")) or text.count("/") != 1:
        if not (folder / "adapter_config.json").is_file():
            raise LLMError(
                f"{folder}: not a LoRA adapter folder (no adapter_config.json); pass the --out "
                f"folder of `kokoro-analysis finetune` or a hub id (owner/name)"
            )
        return str(folder.resolve())
    return text


class _AdapterLoader:
    """``PeftModel.from_pretrained(model, name)`` in the shape :func:`load_pretrained` calls."""

    def __init__(self, peft_model, model):
        self.peft_model, self.model = peft_model, model

    def from_pretrained(self, name: str, **kwargs):
        try:
            return self.peft_model.from_pretrained(self.model, name, **kwargs)
        except ValueError as error:  # peft reports a missing hub adapter as a ValueError
            raise OSError(str(error)) from None


def process_count() -> int:
    """Data-parallel processes of this run: ``WORLD_SIZE`` under ``accelerate launch`` / torchrun, else 1."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def local_gpu() -> int:
    """This process's GPU: ``LOCAL_RANK`` under ``accelerate launch`` / torchrun (one per process), else 0."""
    return int(os.environ.get("LOCAL_RANK", "0"))


def bnb_config(compute_dtype):
    """QLoRA's 4-bit NF4 quantization with double quantization, computing in ``compute_dtype``
    (:func:`model_dtype`: bfloat16 where the GPU supports it, else float16)."""
    from transformers import BitsAndBytesConfig

    return BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type="nf4",
        bnb_4bit_use_double_quant=True,
        bnb_4bit_compute_dtype=compute_dtype,
    )


@contextmanager
def memory_guard(batch_size: int | None = None) -> Iterator[None]:
    """Turn a CUDA out-of-memory error into an :class:`LLMError` suggesting a smaller batch."""
    import torch

    try:
        yield
    except torch.OutOfMemoryError:
        smaller = (
            f" (e.g. --batch-size {max(1, batch_size // 2)})"
            if batch_size and batch_size > 1
            else ""
        )
        raise LLMError(
            f"out of GPU memory at batch size {batch_size}: use a smaller batch{smaller}, "
            f"--max-new-tokens, or --quantize 4bit"
        ) from None


# --------------------------------------------------------------------------- smoke model


def _smoke_texts() -> list[str]:
    """Text the smoke tokenizer is trained on: the synthetic sessions' lines, the prompts, digits and JSON."""
    from kokoro_analysis.corpus import synthetic
    from kokoro_analysis.finetune.data import SCORE_SYSTEM_PROMPT, SYSTEM_PROMPT

    return [
        *synthetic.COUNSELOR_LINES,
        *synthetic.CLIENT_LINES,
        SYSTEM_PROMPT,
        SCORE_SYSTEM_PROMPT,
        "[0, 1, 2, 3, 4, 5]",
        "カウンセラー: クライアント: ",
    ]


def build_smoke_model(
    out: str | os.PathLike,
    *,
    seed: int = 0,
    hidden_size: int = 32,
    layers: int = 2,
    vocab_size: int = 600,
) -> Path:
    """Write a tiny randomly initialised Llama-architecture causal LM with a byte-level BPE tokenizer
    (``vocab_size`` tokens, trained on :func:`_smoke_texts`, so any text encodes) and a Llama 3 style
    chat template to the new folder ``out``; nothing is downloaded. Its outputs are noise: it exists to
    run the whole pipeline in a minute. Refuses to overwrite a folder that has files."""
    require_llm()
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    target = Path(out).expanduser()
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise LLMError(f"{target} exists and is not empty; choose a new folder")
    tokenizer = _smoke_tokenizer(vocab_size)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        intermediate_size=2 * hidden_size,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=16384,
        tie_word_embeddings=False,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    with atomic_target(target) as staging:
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
    return target


def _smoke_tokenizer(vocab_size: int):
    """The smoke model's byte-level BPE tokenizer of ``vocab_size`` tokens, trained on
    :func:`_smoke_texts`, with :data:`SMOKE_CHAT_TEMPLATE`."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    backend = Tokenizer(models.BPE())
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(SMOKE_SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    backend.train_from_iterator(_smoke_texts(), trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=backend,
        bos_token="<|begin_of_text|>",
        eos_token="<|eot_id|>",
        pad_token="<|pad|>",
        chat_template=SMOKE_CHAT_TEMPLATE,
    )
