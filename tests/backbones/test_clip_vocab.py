import json

from transformers import CLIPTokenizer

from sept_ray.backbones.clip_tokenizer import load_clip_tokenizer
from sept_ray.backbones.clip_vocab import (
    END_OF_TEXT,
    START_OF_TEXT,
    byte_symbols,
    clip_vocabulary,
    offline_corpus,
    offline_vocab_dir,
    train_clip_bpe,
    write_clip_vocab,
)


def test_byte_symbols_are_gpt2_clip_byte_level_alphabet():
    symbols = byte_symbols()
    assert len(set(symbols)) == 256
    assert symbols[:3] == ["!", '"', "#"] and symbols[94] == "¡"
    assert symbols[188:190] == ["Ā", "ā"]  # byte 0 and byte 1 come after the printable ones
    assert "Ġ" in symbols  # the space byte


def test_shipped_vocabulary_has_clip_layout_and_covers_the_corpus():
    folder = offline_vocab_dir()
    vocab = json.loads((folder / "vocab.json").read_text())
    merges = (folder / "merges.txt").read_text().splitlines()
    assert merges[0] == "#version: 0.2"
    pairs = [tuple(line.split(" ")) for line in merges[1:]]
    assert vocab == clip_vocabulary(pairs)
    assert vocab[END_OF_TEXT] == len(vocab) - 1 and vocab[START_OF_TEXT] == len(vocab) - 2
    tok = load_clip_tokenizer(folder)
    assert (tok.bos_token_id, tok.eos_token_id, tok.pad_token_id) == (len(vocab) - 2,) + (
        len(vocab) - 1,
    ) * 2
    corpus = offline_corpus()
    pieces = tok(corpus, add_special_tokens=False)["input_ids"]
    words, chars = sum(len(line.split()) for line in corpus), sum(len(line) for line in corpus)
    tokens = sum(len(p) for p in pieces)
    assert tokens < 1.5 * words and tokens < 0.25 * chars  # merges make most words one token
    assert tok.unk_token_id not in {i for p in pieces for i in p}


def test_offline_corpus_holds_filled_templates_and_bank_phrases():
    corpus = offline_corpus()
    assert "This is a characteristic sound of church bells." in corpus  # ESC50
    assert "This is a human vocal sound of happy speech." in corpus  # CREMA-D
    assert "tolling bell" in corpus  # built-in bank neighbour of "church bell"
    assert corpus == sorted(set(corpus))


def test_training_on_a_corpus_gives_a_loadable_clip_tokenizer(tmp_path):
    vocab, merges = train_clip_bpe(["dog barking", "dog barking loudly", "a dog"] * 3)
    assert vocab == clip_vocabulary(merges)
    assert "dog</w>" in vocab and "barking</w>" in vocab
    folder = write_clip_vocab(tmp_path / "tok", vocab, merges)
    tok = load_clip_tokenizer(folder)
    assert isinstance(tok, CLIPTokenizer)
    assert tok.convert_ids_to_tokens(
        tok("Dog  BARKING", add_special_tokens=False)["input_ids"]
    ) == [
        "dog</w>",
        "barking</w>",
    ]
    assert tok("cat", add_special_tokens=False)["input_ids"] == [
        vocab["c"],
        vocab["a"],
        vocab["t</w>"],
    ]
