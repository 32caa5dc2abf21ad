"""Prompt learners, one file per method, registered by name in :data:`METHODS`."""

from sept_ray.methods import coop, zeroshot  # noqa: F401  (register the methods)
from sept_ray.methods.base import MethodOutput, PromptLearner, PromptSet
from sept_ray.methods.registry import METHODS, build_method

__all__ = ["METHODS", "MethodOutput", "PromptLearner", "PromptSet", "build_method"]
