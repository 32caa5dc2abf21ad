"""The files a trial writes beside its metrics: readable prompts, text maps, the trial folder."""
