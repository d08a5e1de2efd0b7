"""Random-weight Stable Diffusion pipelines, built offline, for tests and benchmarks.

Speed does not depend on weight values, so a pipeline of real architecture with random weights
measures real per-frame cost; a tiny one exercises every code path in a fraction of a second.
Both are saved as ordinary diffusers folders and loaded through `load_pipelines`, like a real model.
"""

from __future__ import annotations

from pathlib import Path

import torch

from testkit.classify import build_tokenizer

ARCHITECTURES = {
    # diffusers' own fast-test sizes
    "tiny": dict(
        unet=dict(block_out_channels=(32, 64), layers_per_block=2, sample_size=32,
                  down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
                  up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"), cross_attention_dim=32,
                  attention_head_dim=8),
        vae=dict(block_out_channels=(32, 64), layers_per_block=1),
        text=dict(hidden_size=32, intermediate_size=37, num_attention_heads=4, num_hidden_layers=5,
                  projection_dim=32),
    ),
    # Stable Diffusion v1.x (CompVis/stable-diffusion-v1-4, runwayml 1.5): public configs
    "sd-v1": dict(
        unet=dict(block_out_channels=(320, 640, 1280, 1280), layers_per_block=2, sample_size=64,
                  cross_attention_dim=768, attention_head_dim=8),
        vae=dict(block_out_channels=(128, 256, 512, 512), layers_per_block=2),
        text=dict(hidden_size=768, intermediate_size=3072, num_attention_heads=12,
                  num_hidden_layers=12, projection_dim=768),
    ),
    # Stable Diffusion 2.x / sd-turbo
    "sd-turbo": dict(
        unet=dict(block_out_channels=(320, 640, 1280, 1280), layers_per_block=2, sample_size=64,
                  cross_attention_dim=1024, attention_head_dim=(5, 10, 20, 20),
                  use_linear_projection=True),
        vae=dict(block_out_channels=(128, 256, 512, 512), layers_per_block=2),
        text=dict(hidden_size=1024, intermediate_size=4096, num_attention_heads=16,
                  num_hidden_layers=23, projection_dim=512, hidden_act="gelu"),
    ),
}


def build_pipeline(architecture: str = "tiny", seed: int = 0):
    """A StableDiffusionPipeline of the given architecture with random weights."""
    import tempfile

    from diffusers import (AutoencoderKL, PNDMScheduler, StableDiffusionPipeline,
                           UNet2DConditionModel)
    from transformers import CLIPTextConfig, CLIPTextModel

    spec = ARCHITECTURES[architecture]
    depth = len(spec["unet"]["block_out_channels"])
    torch.manual_seed(seed)
    unet = UNet2DConditionModel(
        in_channels=4, out_channels=4,
        **({"down_block_types": ("CrossAttnDownBlock2D",) * (depth - 1) + ("DownBlock2D",),
            "up_block_types": ("UpBlock2D",) + ("CrossAttnUpBlock2D",) * (depth - 1)}
           if depth == 4 else {}),
        **spec["unet"],
    )
    vae_depth = len(spec["vae"]["block_out_channels"])
    vae = AutoencoderKL(
        in_channels=3, out_channels=3, latent_channels=4,
        down_block_types=("DownEncoderBlock2D",) * vae_depth,
        up_block_types=("UpDecoderBlock2D",) * vae_depth,
        **spec["vae"],
    )
    with tempfile.TemporaryDirectory() as scratch:
        tokenizer = build_tokenizer(Path(scratch))
    text_encoder = CLIPTextModel(CLIPTextConfig(
        bos_token_id=0, eos_token_id=1, pad_token_id=2, vocab_size=max(1000, len(tokenizer)),
        max_position_embeddings=77, **spec["text"],
    ))
    scheduler = PNDMScheduler(
        beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", skip_prk_steps=True,
        set_alpha_to_one=False, steps_offset=1,
    )
    return StableDiffusionPipeline(
        unet=unet, vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, scheduler=scheduler,
        safety_checker=None, feature_extractor=None, requires_safety_checker=False,
    )


def save_pipeline(folder: Path, architecture: str = "tiny") -> Path:
    """Build and save a random pipeline as a diffusers folder that `load_pipelines` reads."""
    build_pipeline(architecture).save_pretrained(folder)
    return folder


# AutoencoderTiny's defaults are taesd's architecture (madebyollin/taesd's config.json).
TINY_VAES = {
    "tiny": dict(encoder_block_out_channels=(16,) * 4, decoder_block_out_channels=(16,) * 4,
                 num_encoder_blocks=(1, 1, 1, 1), num_decoder_blocks=(1, 1, 1, 1)),
    "taesd": {},
}


def build_tiny_vae(architecture: str = "tiny", seed: int = 0):
    """An AutoencoderTiny with random weights, the shape of taesd or smaller for tests."""
    from diffusers import AutoencoderTiny

    torch.manual_seed(seed)
    return AutoencoderTiny(**TINY_VAES[architecture])


def save_tiny_vae(folder: Path, architecture: str = "tiny") -> Path:
    """Build and save a random AutoencoderTiny as a folder that `load_tiny_vae` reads."""
    build_tiny_vae(architecture).save_pretrained(folder)
    return folder
