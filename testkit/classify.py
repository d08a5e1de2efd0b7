"""Offline stand-ins for Hub downloads, for tests and benchmarks: a letters-only CLIP tokenizer and
a tiny CLIP model saved as an ordinary folder that the real loading code reads."""

from __future__ import annotations

import json
import string
from pathlib import Path


def build_tokenizer(folder: Path):
    """A CLIP tokenizer over letters alone: no Hub, and every prompt still tokenizes."""
    from transformers import CLIPTokenizer

    folder.mkdir(parents=True, exist_ok=True)
    tokens = ["<|startoftext|>", "<|endoftext|>", "!"]
    for letter in string.ascii_lowercase + string.digits + ",.'-":
        tokens += [letter, letter + "</w>"]
    (folder / "vocab.json").write_text(json.dumps({t: i for i, t in enumerate(tokens)}))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    return CLIPTokenizer(
        str(folder / "vocab.json"), str(folder / "merges.txt"), model_max_length=77, pad_token="!"
    )


def save_tiny_clip(folder: Path, seed: int = 0) -> Path:
    """A random CLIP (ViT) small enough for tests, with its processor, as a from_pretrained folder."""
    import torch
    from transformers import (CLIPConfig, CLIPImageProcessor, CLIPModel, CLIPProcessor,
                              CLIPTextConfig, CLIPVisionConfig)

    torch.manual_seed(seed)
    tokenizer = build_tokenizer(folder / "tokenizer-src")
    text = CLIPTextConfig(vocab_size=1000, hidden_size=32, intermediate_size=37, num_attention_heads=4,
                          num_hidden_layers=2, max_position_embeddings=77, bos_token_id=0,
                          eos_token_id=1, pad_token_id=2)
    vision = CLIPVisionConfig(image_size=32, patch_size=8, hidden_size=32, intermediate_size=37,
                              num_attention_heads=4, num_hidden_layers=2)
    model = CLIPModel(CLIPConfig(text_config=text.to_dict(), vision_config=vision.to_dict(),
                                 projection_dim=16))
    images = CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    model.save_pretrained(folder)
    CLIPProcessor(image_processor=images, tokenizer=tokenizer).save_pretrained(folder)
    return folder


def teach_tiny_clip(folder: Path, lessons: list[tuple[list[str], list[Path]]], steps: int = 300,
                    seed: int = 0) -> Path:
    """Fine-tune the CLIP in `folder` (save_tiny_clip's) on `lessons`, each the ways of saying a
    thing and pictures of it: CLIP's own contrastive loss, each step one sentence and one picture
    of every lesson. The tests' stand-in for what the real CLIP learned from the web."""
    import random

    import torch
    from PIL import Image
    from transformers import CLIPModel, CLIPProcessor

    rng = random.Random(seed)
    torch.manual_seed(seed)
    model, processor = CLIPModel.from_pretrained(folder), CLIPProcessor.from_pretrained(folder)
    pixels = {path: processor(images=[Image.open(path).convert("RGB")], return_tensors="pt")["pixel_values"]
              for _, paths in lessons for path in paths}
    optimiser = torch.optim.AdamW(model.parameters(), lr=1e-3)
    model.train()
    for _ in range(steps):
        text = processor(text=[rng.choice(sentences) for sentences, _ in lessons], return_tensors="pt", padding=True)
        batch = torch.cat([pixels[rng.choice(paths)] for _, paths in lessons])
        loss = model(input_ids=text["input_ids"], attention_mask=text["attention_mask"], pixel_values=batch,
                     return_loss=True).loss
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    model.eval().save_pretrained(folder)
    return folder


SHAPES = {"circle": (0, 40), "square": (200, 250), "triangle": (90, 150)}  # and each its hues


def make_shapes_dataset(folder: Path, per_class: int = 80, size: int = 64, seed: int = 0) -> Path:
    """Three classes of drawn shapes on grey backgrounds, each class with its own range of hues and
    varied in size, place, shade and blur: a small network learns it from scratch in a minute."""
    import colorsys
    import random

    from PIL import Image, ImageDraw, ImageFilter

    rng = random.Random(seed)
    for shape, (hue_low, hue_high) in SHAPES.items():
        (folder / shape).mkdir(parents=True, exist_ok=True)
        for n in range(per_class):
            grey = rng.randint(40, 215)
            image = Image.new("RGB", (size, size), (grey, grey, grey))
            hue = rng.uniform(hue_low, hue_high) / 360
            rgb = colorsys.hsv_to_rgb(hue, rng.uniform(0.6, 1.0), rng.uniform(0.5, 1.0))
            colour = tuple(round(c * 255) for c in rgb)
            draw = ImageDraw.Draw(image)
            r = rng.uniform(0.22, 0.4) * size
            cx, cy = (rng.uniform(r, size - r) for _ in range(2))
            if shape == "circle":
                draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=colour)
            elif shape == "square":
                draw.rectangle((cx - r, cy - r, cx + r, cy + r), fill=colour)
            else:
                draw.polygon([(cx, cy - r), (cx - r, cy + r), (cx + r, cy + r)], fill=colour)
            image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0, 1)))
            image.save(folder / shape / f"{shape}_{n:03d}.jpg", quality=90)
    return folder
