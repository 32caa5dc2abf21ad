"""``sept backbones``: the listing of backbones and weights, with local copies detected."""

from sept_ray.backbones.checkpoints import CACHE_ENV
from sept_ray.cli import main


def rows(text: str) -> dict[str, list[str]]:
    """First word of each line -> its words."""
    return {line.split()[0]: line.split() for line in text.splitlines() if line.strip()}


def test_backbones_lists_defaults_sources_sizes_and_local_copies(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    assert main(["backbones"]) == 0
    out = capsys.readouterr().out
    backbones, weights = out.split("\nweights")
    listed = rows(backbones)
    assert listed["laion-clap"][:5] == ["laion-clap", "laion-clap-htsat-unfused", "615", "MB", "no"]
    assert listed["laion-clap"][5] == "https://huggingface.co/laion/clap-htsat-unfused"
    assert listed["msclap-2023"][1:5] == ["msclap-2023", "690", "MB", "no"]
    assert listed["msclap-2023"][5].endswith("microsoft/msclap/resolve/main/CLAP_weights_2023.pth")
    assert listed["tiny-alm"][1:] == ["-", "-", "-", "built", "in", "(no", "download)"]
    assert str(tmp_path) in weights
    names = rows(weights.split("\n", 1)[1])
    assert names["gpt2-tokenizer"][1:4] == ["msclap-2023", "hf", "2"]
    assert names["laion-clap-htsat-fused"][5] == "no"

    (tmp_path / "CLAP_weights_2023.pth").write_bytes(b"x")  # a local copy appears
    (tmp_path / "laion-clap-htsat-fused").mkdir()
    assert main(["backbones"]) == 0
    backbones, weights = capsys.readouterr().out.split("\nweights")
    assert rows(backbones)["msclap-2023"][4] == "yes"
    names = rows(weights.split("\n", 1)[1])
    assert names["msclap-2023"][5] == "yes" and names["laion-clap-htsat-fused"][5] == "yes"
    assert names["laion-clap-htsat-unfused"][5] == "no"
