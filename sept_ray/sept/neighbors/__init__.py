"""Neighbour generation with an LLM: prompt, client, validation, answer cache, generation, views."""
