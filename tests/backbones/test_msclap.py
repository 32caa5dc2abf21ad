"""MS-CLAP 2023 on a small config saved in msclap's checkpoint layout, loaded by folder or file."""

import hashlib
import json
import re
from pathlib import Path

import pytest
import torch
from safetensors import safe_open

from sept_ray.backbones.checkpoints import CACHE_ENV
from sept_ray.backbones.htsat import HTSATConfig
from sept_ray.backbones.msclap import (
    CONFIG_FILE,
    GPT2TextConfig,
    MSClap,
    MSClapConfig,
    init_random_text_weights,
    load_gpt2_tokenizer,
    load_msclap,
)
from sept_ray.backbones.pengi_audio import PengiAudioConfig, PengiAudioEncoder, init_random_weights
from sept_ray.backbones.projection import Projection
from sept_ray.backbones.registry import build_backbone, release_backbones
from sept_ray.config import BackboneConfig, TrialConfig
from sept_ray.offline import OFFLINE_ENV
from sept_ray.train import run_trial

from conftest import write_tone_dataset

try:
    from transformers.initialization import no_init_weights  # transformers 5
except ImportError:  # transformers 4 (pyproject allows >= 4.45)
    from transformers.modeling_utils import no_init_weights

REFERENCE = Path(__file__).parent / "data" / "msclap_text_reference.safetensors"
TEXTS = ["a dog barks", "rain on a tin roof at night", "the cat"]
CORPUS = ["a dog barks loudly", "rain on a tin roof at night", "the cat meows", "birds sing"] * 5


def save_tiny_gpt2_tokenizer(folder):
    """A byte-level BPE trained here ("!" gets id 0, as in GPT-2) plus <|endoftext|> as the last
    id, saved as a GPT2Tokenizer."""
    from tokenizers import ByteLevelBPETokenizer
    from transformers import GPT2Tokenizer

    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(CORPUS, vocab_size=300, min_frequency=1)
    bpe.save_model(str(folder))
    vocab = json.loads((folder / "vocab.json").read_text())
    vocab["<|endoftext|>"] = len(vocab)
    merges = [tuple(line.split()) for line in (folder / "merges.txt").read_text().splitlines()[1:]]
    for name in ("vocab.json", "merges.txt"):
        (folder / name).unlink()
    GPT2Tokenizer(vocab=vocab, merges=merges).save_pretrained(folder)
    return len(vocab)


def small_config(vocab_size):
    htsat = HTSATConfig(embed_dim=16, depths=(1, 1), num_heads=(1, 2), num_classes=5)
    return MSClapConfig(
        audio=PengiAudioConfig(htsat=htsat, d_proj=24),
        text=GPT2TextConfig(vocab_size=vocab_size, n_positions=80, n_embd=32, n_layer=2, n_head=2),
    )


def msclap_state(cfg, seed=0):
    """Random weights under msclap's keys, as its training saved them: ``module.`` prefix, GPT-2's
    old mask buffers, ``logit_scale`` = log(1 / 0.07) + 0.5."""
    torch.manual_seed(seed)
    audio = PengiAudioEncoder(cfg.audio)
    init_random_weights(audio, seed)
    text = cfg.text.build()
    projection = Projection(cfg.text.n_embd, cfg.audio.d_proj)
    state = {f"audio_encoder.{k}": v for k, v in audio.state_dict().items()}
    state |= {f"caption_encoder.base.{k}": v for k, v in text.state_dict().items()}
    state |= {f"caption_encoder.projection.{k}": v for k, v in projection.state_dict().items()}
    for layer in range(cfg.text.n_layer):
        n = cfg.text.n_positions
        state[f"caption_encoder.base.h.{layer}.attn.bias"] = torch.ones(1, 1, n, n).tril()
        state[f"caption_encoder.base.h.{layer}.attn.masked_bias"] = torch.tensor(-1e4)
    state["logit_scale"] = torch.tensor(2.6593 + 0.5)
    return {f"module.{k}": v.clone() for k, v in state.items()}


def save_msclap_folder(folder, state=None):
    folder.mkdir(parents=True)
    vocab_size = save_tiny_gpt2_tokenizer(folder)
    cfg = small_config(vocab_size)
    state = msclap_state(cfg) if state is None else state
    torch.save({"model": state}, folder / "CLAP_weights_2023.pth")
    (folder / CONFIG_FILE).write_text(json.dumps(cfg.to_dict()))
    return folder, cfg, state


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    return save_msclap_folder(tmp_path_factory.mktemp("msclap") / "small")


@pytest.fixture(scope="module")
def msclap(saved):
    model = build_backbone(BackboneConfig(name="msclap-2023", weights=str(saved[0]), device="cpu"))
    yield model
    release_backbones()


def reference_text_features(state, cfg, tokenizer, texts):
    """msclap's caption path, restated: pad to 77 with "!", GPT-2 on the ids with the mask, the
    hidden state at (ids != 0).sum() - 1, then the projection; weights from the checkpoint."""
    from transformers import GPT2Model

    state = {k.removeprefix("module."): v for k, v in state.items()}
    gpt2 = cfg.text.build().eval()
    prefix = "caption_encoder.base."
    stale = re.compile(r"h\.\d+\.attn\.(bias|masked_bias)")  # old GPT-2 mask buffers
    base = {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}
    gpt2.load_state_dict({k: v for k, v in base.items() if not stale.fullmatch(k)})
    assert isinstance(gpt2, GPT2Model)
    projection = Projection(cfg.text.n_embd, cfg.audio.d_proj)
    prefix = "caption_encoder.projection."
    projection.load_state_dict(
        {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}
    )
    tok = tokenizer([t + " <|endoftext|>" for t in texts], padding="max_length", max_length=77)
    ids, mask = torch.tensor(tok["input_ids"]), torch.tensor(tok["attention_mask"])
    with torch.no_grad():
        hidden = gpt2(input_ids=ids, attention_mask=mask).last_hidden_state
        last = torch.ne(ids, 0).sum(-1) - 1
        return projection(hidden[torch.arange(len(texts)), last])


def test_attributes_and_frozen(msclap, saved):
    assert isinstance(msclap, MSClap)
    assert (msclap.sample_rate, msclap.clip_seconds, msclap.n_samples) == (44100, 7.0, 308700)
    assert (msclap.embed_dim, msclap.ctx_width) == (24, 32)
    assert msclap.logit_scale == pytest.approx(float(torch.tensor(3.1593).exp()), rel=1e-6)
    assert not any(p.requires_grad for p in msclap.parameters())
    msclap.train()
    assert not any(m.training for m in msclap.modules())
    state = {k.removeprefix("module."): v for k, v in saved[2].items()}
    own = msclap.state_dict()
    for key in (
        "caption_encoder.base.h.1.attn.c_attn.weight",
        "audio_encoder.projection.linear1.weight",
        "audio_encoder.base.htsat.layers.1.blocks.0.attn.qkv.weight",
    ):
        assert torch.equal(own[key], state[key])


def test_tokenize_follows_msclap(msclap):
    batch = msclap.tokenize(["a dog barks", "wow! a dog"])
    tok = msclap.tokenizer
    assert tok.pad_token == "!" and msclap.pad_id == 0
    first = tok("a dog barks <|endoftext|>", add_special_tokens=False)["input_ids"]
    assert batch.ids[0, : len(first)].tolist() == first and first[-1] == msclap.end_id
    assert batch.ctx_start == 0 and batch.pool_index[0] == len(first) - 1
    # msclap counts a "!" in the text as padding: the feature is read one token earlier
    second = tok("wow! a dog <|endoftext|>", add_special_tokens=False)["input_ids"]
    assert batch.mask[1].sum() == len(second) and batch.pool_index[1] == len(second) - 2
    long = msclap.tokenize(["dog " * 200], n_ctx=5)
    assert long.ids.shape == (1, 77) and long.ids[0, -1] == msclap.end_id


def test_text_features_equal_msclap_caption_path(msclap, saved):
    folder, cfg, state = saved
    tokenizer = load_gpt2_tokenizer(folder)
    ref = reference_text_features(state, cfg, tokenizer, TEXTS)
    batch = msclap.tokenize(TEXTS)
    ours = msclap.text_features(msclap.token_embedding(batch.ids), batch)
    assert (ours - ref).abs().max().item() <= 1e-5


def test_text_matches_msclap_reference_on_the_same_seeded_weights(tmp_path):
    """The stored outputs were made once, outside this repository, by msclap's own code (its
    source of 2024-09-18) under transformers 4.57.6: ``CLAPWrapper.load_clap`` with
    ``config_2023.yml``'s text tower (``gpt2`` sizes: 12 layers, width 768, vocabulary 50257)
    loading, strictly, the text weights built here from seed 0 (saved as ``caption_encoder.*``),
    then ``preprocess_text`` + ``get_text_embeddings`` with this file's tiny tokenizer. The last
    text holds a "!", which msclap counts as padding: its feature is read one token earlier."""
    with safe_open(str(REFERENCE), framework="pt") as handle:
        meta = handle.metadata()
        ref = {key: handle.get_tensor(key) for key in handle.keys()}  # noqa: SIM118
    tokenizer_dir = tmp_path / "tokenizer"
    tokenizer_dir.mkdir()
    save_tiny_gpt2_tokenizer(tokenizer_dir)
    small_audio = PengiAudioConfig(htsat=HTSATConfig(embed_dim=16, depths=(1, 1), num_heads=(1, 2)))
    cfg = MSClapConfig(audio=small_audio, text=GPT2TextConfig())  # the text tower is gpt2's size
    with no_init_weights():  # skips transformers' own 124M-parameter init (seconds): all redrawn
        model = MSClap(cfg, load_gpt2_tokenizer(tokenizer_dir), logit_scale=1.0)
    init_random_text_weights(model.caption_encoder, int(meta["seed"]))
    digest = hashlib.sha256()
    for key, tensor in sorted(model.caption_encoder.state_dict().items()):
        digest.update(f"caption_encoder.{key}".encode())
        digest.update(tensor.numpy().tobytes())
    assert digest.hexdigest() == meta["weights_sha256"], "the seeded MS-CLAP text weights changed"
    batch = model.tokenize(json.loads(meta["texts"]))
    length = batch.ids.shape[1]
    assert torch.equal(batch.ids, ref["input_ids"][:, :length])  # msclap pads to 77 with "!"
    assert torch.equal(batch.mask, ref["attention_mask"][:, :length])
    assert (ref["attention_mask"][:, length:] == 0).all()
    with torch.no_grad():
        features = model.text_features(model.token_embedding(batch.ids), batch)
    assert (features - ref["features"]).abs().max() <= 1e-4


def test_context_slots_are_plain_token_positions(msclap):
    batch = msclap.tokenize(TEXTS, n_ctx=3)
    assert (batch.ids[:, :3] == msclap.placeholder).all()
    words = torch.tensor(
        msclap.tokenizer("birds sing loudly", add_special_tokens=False)["input_ids"][:3]
    )
    ids = batch.ids.clone()
    ids[:, :3] = words
    ctx = msclap.token_embedding(words).clone().requires_grad_(True)
    embeds = torch.cat(
        [ctx.expand(len(TEXTS), -1, -1), msclap.token_embedding(batch.ids)[:, 3:]], 1
    )
    ours = msclap.text_features(embeds, batch)
    ref = msclap.text_features(msclap.token_embedding(ids), batch)
    assert (ours - ref).abs().max().item() <= 1e-6
    ours.sum().backward()
    assert ctx.grad is not None and ctx.grad.abs().sum() > 0


def test_vocabulary_is_the_gpt2_table_read_without_byte_markers(msclap):
    vocab = msclap.vocabulary()
    tok = msclap.tokenizer
    assert vocab.table.shape == (len(tok), 32)
    assert torch.equal(vocab.table, msclap.token_embedding(torch.arange(len(tok))))
    ids = tok(" dog barks", add_special_tokens=False)["input_ids"]
    assert "Ġ" in "".join(tok.convert_ids_to_tokens(ids))
    assert "".join(vocab.decode(ids)) == "dogbarks"
    assert not any("Ġ" in w or w != w.strip() for w in vocab.decode(ids))
    assert vocab.special_ids == {msclap.end_id}  # "!", the padding token, is a word of texts too


def test_audio_features(msclap):
    wave = 0.3 * torch.randn(2, msclap.n_samples, generator=torch.Generator().manual_seed(0))
    first = msclap.audio_features(wave)
    assert first.shape == (2, 24) and torch.isfinite(first).all()
    assert torch.equal(first, msclap.audio_features(wave))
    assert not torch.allclose(first[0], first[1])


def test_key_mismatches_are_errors_naming_the_keys(tmp_path, saved):
    _, _, state = saved
    extra = dict(state) | {"module.caption_encoder.base.h.7.attn.c_attn.weight": torch.zeros(2)}
    folder, _, _ = save_msclap_folder(tmp_path / "extra", extra)
    with pytest.raises(
        ValueError, match=r"unexpected keys \(1\): base\.h\.7\.attn\.c_attn\.weight"
    ):
        load_msclap(str(folder))
    missing = {k: v for k, v in state.items() if not k.endswith("ln_f.weight")}
    folder, _, _ = save_msclap_folder(tmp_path / "missing", missing)
    with pytest.raises(ValueError, match=r"missing keys \(1\): base\.ln_f\.weight"):
        load_msclap(str(folder))
    stray = dict(state) | {"module.text_branch.x": torch.zeros(1)}
    folder, _, _ = save_msclap_folder(tmp_path / "stray", stray)
    with pytest.raises(ValueError, match=r"unexpected keys \['text_branch.x'\]"):
        load_msclap(str(folder))


def test_checkpoint_file_alone_needs_the_gpt2_tokenizer(tmp_path, saved, monkeypatch):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setenv(OFFLINE_ENV, "1")
    checkpoint = saved[0] / "CLAP_weights_2023.pth"
    with pytest.raises(FileNotFoundError) as error:  # default config: full-size, tokenizer needed
        load_msclap(str(checkpoint))
    assert "https://huggingface.co/openai-community/gpt2" in str(error.value)
    assert str(tmp_path / "cache" / "gpt2-tokenizer") in str(error.value)


def test_b2n_trial_runs_on_msclap(tmp_path, saved):
    write_tone_dataset(tmp_path, "Tones", ["alpha", "beta", "delta", "gamma"], 2, 1)  # 12 clips
    cfg = TrialConfig.from_dict(
        {
            "data": {"name": "Tones", "root": str(tmp_path), "shots": 2},
            "backbone": {"name": "msclap-2023", "weights": str(saved[0]), "device": "cpu"},
            "method": {"name": "coop", "n_ctx": 2},
            "train": {"epochs": 1, "batch_size": 4, "seed": 0, "time_inference": False},
            "output_dir": str(tmp_path / "trial"),
            "cache_dir": str(tmp_path / "cache"),
        }
    )
    result = run_trial(cfg)
    assert [m.epoch for m in result.history] == [1]
    assert result.n_params == 2 * 32
    assert 0 <= result.base <= 100 and 0 <= result.new <= 100
    assert (result.output_dir / "prompt.safetensors").is_file()
