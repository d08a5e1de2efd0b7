"""Test support, outside the product users run: tiny models and data sets built locally, which go
through the same loading code as real ones (tests and bench import them; the app never does).

- `testkit.classify`: the shapes data set, a tiny CLIP and its tokenizer.
- `testkit.dream`: a tiny Stable Diffusion pipeline and tiny VAE saved as diffusers folders.
"""
