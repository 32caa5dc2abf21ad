"""Prompt learners, one file per method, registered by name in :data:`METHODS`."""

from sept_ray.methods import cocoop, coop, dept, kgcoop, palm, zeroshot  # noqa: F401  (register)
from sept_ray.methods.base import AudioBatch, MethodOutput, PromptLearner, PromptSet
from sept_ray.methods.registry import METHODS, build_method

__all__ = ["METHODS", "AudioBatch", "MethodOutput", "PromptLearner", "PromptSet", "build_method"]
