"""The judge engine: frames, prompts, answer checking and the providers that ask a judge model.

``microverse.judge.providers`` is the generic layer (any OpenAI-compatible chat endpoint,
or a local Hugging Face model); the rest is MicroWorldBench's paper protocol on top of it.
"""
