"""Neighbour generation against a real chat-completions server on 127.0.0.1 (no mocked client)."""

import json
import logging
import shutil

import pytest
from chat_server import ChatServer, Reply, neighbours

from sept_ray.cli import main
from sept_ray.sept.bank import load_bank
from sept_ray.sept.neighbors.cache import AnswerCache
from sept_ray.sept.neighbors.client import ChatClient, ServerConfig
from sept_ray.sept.neighbors.generate import GenerationConfig, GenerationError, generate_bank
from sept_ray.sept.neighbors.prompt import PROMPT_VERSION

SECRET = "sk-test-0123456789-SECRET-never-logged"
CLASSES = ["dog bark", "siren", "rain"]


@pytest.fixture
def server(monkeypatch, tmp_path):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    with ChatServer() as chat:
        yield chat


def client_for(server, **options) -> ChatClient:
    values = {"timeout_s": 0.5, "retries": 2, "backoff_s": 0.001, **options}
    return ChatClient(ServerConfig(model="test-model", base_url=server.url, **values))


def generate(server, tmp_path, classes=("dog bark", "siren"), n=3, max_rounds=3, **options):
    return generate_bank(
        client_for(server, **options),
        AnswerCache(tmp_path / "cache"),
        "Street",
        "classifying street sounds",
        list(classes),
        GenerationConfig(n=n, max_rounds=max_rounds),
        tmp_path / "bank.json",
    )


def user_text(request) -> str:
    return request["body"]["messages"][-1]["content"]


def test_cli_generates_a_bank_end_to_end_and_a_rerun_costs_no_call(
    server, tmp_path, capsys, caplog
):
    caplog.set_level(logging.DEBUG)
    (tmp_path / "classes.txt").write_text("dog bark\nsiren\n\nrain\n")
    server.script(
        neighbours("puppy yelp", "wolf howl", "Growling  Dog", "extra one"),
        neighbours("ambulance wail", "police car", "fire engine"),
        neighbours("drizzle", "downpour", "raindrops on a roof"),
    )
    argv = [
        "neighbors",
        "generate",
        "--classes",
        str(tmp_path / "classes.txt"),
        "--dataset",
        "Street",
        "--n",
        "3",
        "--model",
        "test-model",
        "--base-url",
        server.url,
        "--out",
        str(tmp_path / "bank.json"),
        "--cache",
        str(tmp_path / "cache"),
        "--timeout",
        "0.5",
        "--backoff",
        "0.001",
    ]
    assert main(argv) == 0
    bank = load_bank(tmp_path / "bank.json")
    assert bank.datasets == {
        "Street": {
            "dog bark": ["puppy yelp", "wolf howl", "growling dog"],
            "siren": ["ambulance wail", "police car", "fire engine"],
            "rain": ["drizzle", "downpour", "raindrops on a roof"],
        }
    }
    prov = bank.provenance
    assert prov["model"] == "test-model" and prov["server"] == server.url
    assert prov["prompt_version"] == PROMPT_VERSION and prov["response_format"] == "json_schema"
    assert prov["generator"].startswith("sept neighbors generate")
    assert len(server.requests) == 3
    first = server.requests[0]
    assert first["path"] == "/v1/chat/completions"
    assert first["headers"]["authorization"] == f"Bearer {SECRET}"  # sent to the server only
    assert first["body"]["model"] == "test-model"
    schema = first["body"]["response_format"]["json_schema"]["schema"]
    assert schema["required"] == ["neighbours"]
    text = user_text(first)
    assert 'neighbours of the class "dog bark"' in text and "Give 3" in text
    assert "(siren, rain)" in text
    assert "Task: classifying audio clips, each described as 'This is a sound of <class>.'" in text
    out = capsys.readouterr()
    assert "[3/3] rain: 3 phrases (1 new answer(s))" in out.out

    assert main(argv) == 0  # the cache answers everything: no request reaches the server
    assert len(server.requests) == 3
    assert "from the cache" in capsys.readouterr().out
    assert load_bank(tmp_path / "bank.json").datasets == bank.datasets

    stored = [p.read_text() for p in (tmp_path / "cache").rglob("*.json")]
    assert len(stored) == 3 and all(SECRET not in s for s in stored)
    assert SECRET not in (tmp_path / "bank.json").read_text()
    logged = caplog.text + out.out + out.err
    assert SECRET not in logged


def test_malformed_json_is_asked_again(server, tmp_path):
    server.script('{"neighbours": ["puppy yelp", ', neighbours("puppy yelp", "wolf howl", "hound"))
    bank = generate(server, tmp_path, classes=("dog bark",))
    assert bank.datasets["Street"]["dog bark"] == ["puppy yelp", "wolf howl", "hound"]
    assert len(server.requests) == 2
    (entry,) = (tmp_path / "cache").rglob("*.json")
    answers = json.loads(entry.read_text())["answers"]
    assert [a["content"][:15] for a in answers] == ['{"neighbours": ', '{"neighbours": ']
    assert json.loads(entry.read_text())["key"] == {
        "model": "test-model",
        "prompt_version": PROMPT_VERSION,
        "dataset": "Street",
        "class": "dog bark",
    }


def test_rate_limit_then_success(server, tmp_path, caplog):
    server.script(
        Reply("slow down", status=429, headers={"retry-after": "0.01"}),
        neighbours("puppy yelp", "wolf howl", "hound"),
    )
    bank = generate(server, tmp_path, classes=("dog bark",))
    assert bank.datasets["Street"]["dog bark"][0] == "puppy yelp"
    assert len(server.requests) == 2
    assert "HTTP 429" in caplog.text and "retry 1 of 2" in caplog.text


def test_server_errors_exhaust_the_retries_and_name_the_class(server, tmp_path):
    server.script(*[Reply(status=503) for _ in range(3)])
    with pytest.raises(GenerationError, match=r"class 'dog bark'.*HTTP 503.*after 3 tries"):
        generate(server, tmp_path, classes=("dog bark",))
    assert len(server.requests) == 3


def test_a_timeout_is_retried(server, tmp_path):
    server.script(
        Reply(neighbours("late"), delay_s=1.0), neighbours("puppy yelp", "wolf howl", "hound")
    )
    bank = generate(server, tmp_path, classes=("dog bark",), timeout_s=0.3)
    assert bank.datasets["Street"]["dog bark"] == ["puppy yelp", "wolf howl", "hound"]
    assert len(server.requests) == 2


def test_timeouts_everywhere_fail_with_the_class(server, tmp_path):
    server.script(*[Reply(neighbours("late"), delay_s=0.6) for _ in range(2)])
    with pytest.raises(GenerationError, match=r"'siren'.*no answer within 0.3 s after 2 tries"):
        generate(server, tmp_path, classes=("siren",), timeout_s=0.3, retries=1)


def test_too_few_valid_phrases_are_topped_up(server, tmp_path):
    server.script(
        neighbours("Siren", "dog bark", "ambulance wail", "AMBULANCE  wail", "", "a b c d e f g"),
        neighbours("police car", "fire engine"),
        neighbours("puppy yelp", "wolf howl", "hound"),
    )
    bank = generate(server, tmp_path, classes=("siren", "dog bark"))
    assert bank.datasets["Street"]["siren"] == ["ambulance wail", "police car", "fire engine"]
    first, second, _ = server.requests
    assert "Give 3 neighbours" in user_text(first)
    assert "Give 2 neighbours" in user_text(second)
    assert "Do not give any of these again: ambulance wail." in user_text(second)


def test_a_class_still_short_fails_naming_the_class_and_the_answers(server, tmp_path):
    server.script(neighbours("siren", "wail"), neighbours("wail", "dog bark"))
    with pytest.raises(GenerationError) as info:
        generate(server, tmp_path, classes=("siren", "dog bark"), max_rounds=2)
    message = str(info.value)
    assert "class 'siren': 1 valid phrases of 3 after 2 answers" in message
    assert (
        "'siren' (the class's own name)" in message
        and "'dog bark' (another class's name)" in message
    )
    assert "'wail' (duplicate)" in message and "last answer:" in message
    assert not (tmp_path / "bank.json").exists()


def test_refused_structured_output_falls_back_to_plain_json(server, tmp_path):
    server.script(
        Reply("response_format json_schema is not supported", status=400),
        'Here you go:\n```json\n{"neighbours": ["puppy yelp", "wolf howl", "hound"]}\n```',
    )
    bank = generate(server, tmp_path, classes=("dog bark",))
    assert bank.datasets["Street"]["dog bark"] == ["puppy yelp", "wolf howl", "hound"]
    assert bank.provenance["response_format"] == "none"
    assert "response_format" in server.requests[0]["body"]
    assert "response_format" not in server.requests[1]["body"]


def test_an_interrupted_run_resumes_from_the_cache(server, tmp_path):
    server.script(neighbours("puppy yelp", "wolf howl", "hound"), Reply(status=500))
    with pytest.raises(GenerationError, match="class 'siren'"):
        generate(server, tmp_path, retries=0)
    server.script(neighbours("ambulance wail", "police car", "fire engine"))
    bank = generate(server, tmp_path, retries=0)
    assert len(server.requests) == 3  # the second run asked only for the class left
    assert 'class "siren"' in user_text(server.requests[2])
    assert bank.datasets["Street"]["dog bark"] == ["puppy yelp", "wolf howl", "hound"]


def test_the_raw_answers_are_recorded_as_a_relative_folder_and_a_digest(server, tmp_path):
    server.script(neighbours("puppy yelp", "wolf howl", "hound"))
    first = generate(server, tmp_path / "a", classes=("dog bark",)).provenance["raw_answers"]
    assert first["folder"] == f"test-model/{PROMPT_VERSION}/Street"
    assert str(tmp_path) not in json.dumps(first)  # nothing of this machine's cache path
    # a colleague with a copy of the cache gets the same record without any call
    shutil.copytree(tmp_path / "a" / "cache", tmp_path / "b" / "cache")
    calls = len(server.requests)
    assert (
        generate(server, tmp_path / "b", classes=("dog bark",)).provenance["raw_answers"] == first
    )
    assert len(server.requests) == calls
    server.script(neighbours("puppy whine", "wolf howl", "hound"))  # other answers, other digest
    other = generate(server, tmp_path / "c", classes=("dog bark",)).provenance["raw_answers"]
    assert other["folder"] == first["folder"] and other["sha256"] != first["sha256"]


def test_a_missing_key_is_an_error_before_any_request(server, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY")
    with pytest.raises(ValueError, match="OPENAI_API_KEY is not set"):
        client_for(server)


def test_a_refused_key_fails_at_once_and_the_error_masks_the_key(server, tmp_path, capsys):
    server.script(Reply(f"Incorrect API key provided: {SECRET}", status=401))
    (tmp_path / "classes.txt").write_text("siren\n")
    argv = ["neighbors", "generate", "--classes", str(tmp_path / "classes.txt"), "--model", "m"]
    argv += ["--base-url", server.url, "--out", str(tmp_path / "b.json"), "--backoff", "0.001"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "sept: error: dataset 'classes', class 'siren': " in err
    assert "HTTP 401: Incorrect API key provided: ***" in err and SECRET not in err
    assert len(server.requests) == 1  # a 401 is not retried
    assert not (tmp_path / "b.json").exists()


def test_dataset_classes_come_from_the_manifest_the_world_or_a_shipped_bank(tone_root):
    from sept_ray.sept.neighbors.generate import dataset_classes

    assert dataset_classes("Tones", tone_root) == ["alpha", "beta", "delta", "gamma"]
    assert "doorbell" in dataset_classes("SynthHome")
    assert dataset_classes("VocalSound") == [
        "Cough",
        "Laughter",
        "Sigh",
        "Sneeze",
        "Sniff",
        "Throat clearing",
    ]
    with pytest.raises(ValueError, match="--dataset Mine: unknown here; pass --data-root"):
        dataset_classes("Mine")
