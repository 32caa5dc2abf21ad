"""Phrase rules and the reader of LLM answers."""

import pytest

from sept_ray.sept.bank import NeighbourBank
from sept_ray.sept.neighbors.prompt import (
    AnswerError,
    NeighbourRequest,
    messages,
    parse_answer,
    task_of,
)
from sept_ray.sept.neighbors.validate import (
    PhraseRules,
    bank_problems,
    class_key,
    normalise,
    screen,
)

CLASSES = ["dog bark", "city_center", "siren"]


def test_normalise_and_class_key():
    assert normalise("  Puppy   YELP. ") == "puppy yelp"
    assert normalise("\u201cwolf howl\u201d") == "wolf howl"
    assert class_key("City_Center") == "city center" == class_key("city  center")


def test_screen_keeps_valid_phrases_in_order_and_says_why_others_go():
    result = screen(
        [
            "Puppy yelp",
            "puppy  YELP",
            "Dog Bark",
            "city center",
            "SIREN",
            "",
            "a b c d e f g",
            "x" * 61,
            '{"a": 1}',
            "123",
            7,
            "wolf howl",
        ],
        "dog bark",
        CLASSES,
        accepted=["wolf howl"],
        rules=PhraseRules(max_words=6, max_chars=60),
    )
    assert result.kept == ["puppy yelp"]
    assert result.rejected == {
        "puppy yelp": "duplicate",
        "dog bark": "the class's own name",
        "city center": "another class's name",
        "siren": "another class's name",
        "''": "empty",
        "a b c d e f g": "longer than 6 words or 60 characters",
        "x" * 61: "longer than 6 words or 60 characters",
        '{"a": 1}': "not a plain phrase",
        "123": "not a plain phrase",
        "7": "empty",
        "wolf howl": "duplicate",
    }


def test_bank_problems_name_dataset_class_and_phrase():
    bank = NeighbourBank(
        {"D": {"dog bark": ["Puppy yelp", "siren", "growl"], "extra": ["x y"]}},
        {"generator": "g", "model": "m", "prompt_version": "1", "date": "d"},
        "mem",
    )
    assert bank_problems(bank, "D", CLASSES, n_min=3) == [
        "D: class 'city_center' missing",
        "D: class 'siren' missing",
        "D: class 'extra' is not in the dataset",
        "D/dog bark: 'Puppy yelp' is not normalised",
        "D/dog bark: 'siren': another class's name",
    ]
    assert bank_problems(bank, "E", CLASSES, 1) == ["mem: no dataset 'E'"]


@pytest.mark.parametrize(
    "content",
    [
        '{"neighbours": ["a", "b"]}',
        '{"neighbors": ["a", "b"]}',
        '["a", "b"]',
        'Sure! Here they are:\n```json\n{"neighbours": ["a", "b"]}\n```\nEnjoy.',
        'Here: {"neighbours": ["a", "b"]} -- done',
    ],
)
def test_parse_answer_reads_json_in_its_usual_wrappings(content):
    assert parse_answer(content) == ["a", "b"]


@pytest.mark.parametrize(
    "content, why",
    [
        ("no json here", "no JSON object"),
        ('{"neighbours": ["a", ', "not valid JSON"),
        ('{"phrases": ["a"]}', "expected"),
        ("", "no JSON object"),
    ],
)
def test_parse_answer_says_what_is_wrong(content, why):
    with pytest.raises(AnswerError, match=why):
        parse_answer(content)


def test_prompt_gives_task_classes_count_and_what_to_avoid():
    request = NeighbourRequest(
        "ESC50", task_of("ESC50", ""), ("cat", "dog", "rain"), "dog", 5, ("woof",)
    )
    system, user = messages(request)
    assert system["role"] == "system" and "JSON" in system["content"]
    text = user["content"]
    assert "Task: classifying everyday environmental sounds." in text
    assert 'Give 5 neighbours of the class "dog"' in text and "(cat, rain)" in text
    assert "synonyms" in text and "acoustic variants" in text
    assert "Do not give any of these again: woof." in text
    assert (
        task_of("Mine", "Sound of {}.")
        == "classifying audio clips, each described as 'Sound of <class>.'"
    )
