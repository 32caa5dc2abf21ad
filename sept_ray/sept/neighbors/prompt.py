"""The versioned prompt that asks an LLM for a class's neighbours, and the reader of its answer.

A neighbour (docs/METHOD.md, "Neighbour banks") is a short phrase for a related sound concept: what a listener would hear or
call a sound like the class (related sources, synonyms, acoustic variants), in plain words a text
encoder understands. The answer is a JSON object ``{"neighbours": [phrase, ...]}``; servers that
support structured output are held to :func:`answer_schema`. Change the wording only together with
:data:`PROMPT_VERSION`: cached answers are keyed by it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

PROMPT_VERSION = "neighbours-v1"
ANSWER_KEY = "neighbours"

TASKS: dict[str, str] = {
    "Beijing-Opera": "classifying the percussion instruments of Beijing opera from recordings",
    "CREMA-D": "recognising the emotion in acted speech",
    "ESC50": "classifying everyday environmental sounds",
    "ESC50-Actions": "classifying sounds of human actions and non-speech vocal sounds",
    "GT-Music-Genre": "classifying the genre of music excerpts",
    "NS-Instruments": "classifying the instrument family of single musical notes",
    "RAVDESS": "recognising the emotion in acted speech",
    "SESA": "classifying sound events for surveillance (casual sounds versus threats)",
    "TUT2017": "recognising the acoustic scene (the place) of a recording",
    "UrbanSound8K": "classifying urban street sounds",
    "VocalSound": "classifying non-speech human vocal sounds",
}
"""What each of the paper's datasets asks a classifier to do (the prompt's task line)."""

SYSTEM = (
    "You help train audio-language models. You know how things sound and how people describe "
    "sounds. You answer with a JSON object only."
)


@dataclass(frozen=True)
class NeighbourRequest:
    """One question: ``count`` new neighbours of ``cls``, avoiding the phrases in ``avoid``."""

    dataset: str
    task: str
    classes: tuple[str, ...]
    cls: str
    count: int
    avoid: tuple[str, ...] = ()


def task_of(dataset: str, template: str) -> str:
    """The task line: the dataset's own description, else one built from its zero-shot template."""
    if dataset in TASKS:
        return TASKS[dataset]
    return f"classifying audio clips, each described as '{template.format('<class>')}'"


def messages(request: NeighbourRequest) -> list[dict[str, str]]:
    """The chat messages (system + user) of ``request``."""
    others = [c for c in request.classes if c != request.cls]
    lines = [
        f"Dataset: {request.dataset}. Task: {request.task}.",
        f"Its classes: {', '.join(request.classes)}.",
        "",
        f'Give {request.count} neighbours of the class "{request.cls}". A neighbour is a short '
        "phrase (one to five words) naming a sound a listener would hear as related to this class: "
        "related sound sources and sound concepts, synonyms people use for this sound, acoustic "
        "variants (near or distant, soft or loud, indoors or outdoors, a different source making "
        "it), and the parts or phases of the sound. Describe what is heard, in plain everyday "
        "words a text encoder understands: no explanations, numbering or proper names.",
        f'Never use the class name "{request.cls}" itself, nor another class name of the dataset '
        f"({', '.join(others) or 'none'}), and do not repeat a phrase.",
    ]
    if request.avoid:
        lines.append(f"Do not give any of these again: {', '.join(request.avoid)}.")
    lines += [
        "",
        f'Answer with a JSON object {{"{ANSWER_KEY}": [...]}} holding exactly {request.count} '
        "distinct phrases.",
    ]
    return [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": "\n".join(lines)},
    ]


def answer_schema() -> dict:
    """The JSON schema of an answer, for servers that support structured output (strict mode)."""
    return {
        "type": "object",
        "properties": {ANSWER_KEY: {"type": "array", "items": {"type": "string"}}},
        "required": [ANSWER_KEY],
        "additionalProperties": False,
    }


class AnswerError(ValueError):
    """An answer is not the JSON the prompt asked for; the message says what was wrong."""


FENCED = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)


def parse_answer(content: str) -> list[object]:
    """The phrase list of an answer: ``{"neighbours": [...]}`` (or a bare list), also inside a
    Markdown code fence or after leading prose. Items are returned as given (strings expected)."""
    text = content.strip()
    fenced = FENCED.search(text)
    if fenced:
        text = fenced.group(1).strip()
    starts = [i for i in (text.find("{"), text.find("[")) if i >= 0]
    if not starts:
        raise AnswerError("no JSON object in the answer")
    try:
        value, _ = json.JSONDecoder().raw_decode(text[min(starts) :])
    except json.JSONDecodeError as exc:
        raise AnswerError(f"not valid JSON ({exc.msg} at character {exc.pos})") from None
    if isinstance(value, dict):
        value = value.get(ANSWER_KEY, value.get("neighbors"))
    if not isinstance(value, list):
        raise AnswerError(f'expected {{"{ANSWER_KEY}": [...]}}')
    return value
