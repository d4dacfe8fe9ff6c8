"""MicroVersePipeline: Wan2.1 text-to-video with one batched transformer pass per step.

Stock :class:`diffusers.WanPipeline` runs the transformer twice per denoising step (conditional, then
unconditional). Here both halves of classifier-free guidance go through one forward on a batch of two,
which on a GPU keeps the 1.3B model's kernels busy instead of launching everything twice; the arithmetic
per sample is the same, so outputs match the stock pipeline up to floating-point reduction order (a
test checks this). Everything else — prompt encoding, latent initialisation, scheduler, VAE decode,
LoRA loading — is inherited unchanged, so any Wan2.1 diffusers folder loads into this class.
"""

from __future__ import annotations

from typing import Any

import torch
from diffusers import WanPipeline
from diffusers.pipelines.wan.pipeline_output import WanPipelineOutput

from microverse.errors import MicroverseError


class MicroVersePipeline(WanPipeline):
    """Wan2.1 T2V with batched classifier-free guidance and opt-in speed settings (:meth:`optimize`)."""

    @torch.no_grad()
    def __call__(  # noqa: D417 (same arguments as WanPipeline.__call__, minus Wan2.2 two-stage ones)
        self,
        prompt: str | list[str] | None = None,
        negative_prompt: str | list[str] | None = None,
        height: int = 480,
        width: int = 832,
        num_frames: int = 81,
        num_inference_steps: int = 50,
        guidance_scale: float = 5.0,
        generator: torch.Generator | list[torch.Generator] | None = None,
        latents: torch.Tensor | None = None,
        output_type: str = "np",
        return_dict: bool = True,
        attention_kwargs: dict[str, Any] | None = None,
        max_sequence_length: int = 512,
        prompt_embeds: torch.Tensor | None = None,
        negative_prompt_embeds: torch.Tensor | None = None,
        batch_cfg: bool = True,
        callback_on_step_end=None,
    ) -> WanPipelineOutput | tuple:
        """Sample videos. ``batch_cfg=False`` runs the two guidance passes separately (as stock does)."""
        if self.transformer is None or self.config.boundary_ratio is not None:
            raise ValueError("MicroVersePipeline supports single-transformer Wan2.1 models only")
        self.check_inputs(prompt, negative_prompt, height, width, prompt_embeds, negative_prompt_embeds, None)
        if num_frames % self.vae_scale_factor_temporal != 1:
            raise ValueError(f"num_frames must be 4k+1 (Wan's VAE compresses time 4x), got {num_frames}")
        self._guidance_scale = guidance_scale
        self._attention_kwargs = attention_kwargs
        self._interrupt = False
        device = self._execution_device
        prompts = [prompt] if isinstance(prompt, str) else prompt
        cfg = guidance_scale > 1.0

        prompt_embeds, negative_embeds = self.encode_prompt(
            prompt=prompts, negative_prompt=negative_prompt, do_classifier_free_guidance=cfg,
            num_videos_per_prompt=1, prompt_embeds=prompt_embeds, negative_prompt_embeds=negative_prompt_embeds,
            max_sequence_length=max_sequence_length, device=device)
        dtype = self.transformer.dtype
        prompt_embeds = prompt_embeds.to(dtype)
        if cfg:
            negative_embeds = negative_embeds.to(dtype)
            both_embeds = torch.cat([prompt_embeds, negative_embeds])

        self.scheduler.set_timesteps(num_inference_steps, device=device)
        self.scheduler.set_begin_index(0)
        latents = self.prepare_latents(len(prompt_embeds), self.transformer.config.in_channels, height, width,
                                       num_frames, torch.float32, device, generator, latents)
        n = latents.shape[0]
        timesteps = self.scheduler.timesteps
        self._num_timesteps = len(timesteps)
        with self.progress_bar(total=len(timesteps)) as bar:
            for i, t in enumerate(timesteps):
                model_in = latents.to(dtype)
                context = {"step_index": i, "sigma": float(self.scheduler.sigmas[i]),
                           "num_inference_steps": self._num_timesteps}
                if cfg and batch_cfg:
                    with self.transformer.cache_context("cfg", **context):
                        out = self.transformer(hidden_states=torch.cat([model_in, model_in]),
                                               timestep=t.expand(2 * n), encoder_hidden_states=both_embeds,
                                               attention_kwargs=attention_kwargs, return_dict=False)[0]
                    cond, uncond = out.chunk(2)
                    noise_pred = uncond + guidance_scale * (cond - uncond)
                else:
                    with self.transformer.cache_context("cond", **context):
                        noise_pred = self.transformer(hidden_states=model_in, timestep=t.expand(n),
                                                      encoder_hidden_states=prompt_embeds,
                                                      attention_kwargs=attention_kwargs, return_dict=False)[0]
                    if cfg:
                        with self.transformer.cache_context("uncond", **context):
                            uncond = self.transformer(hidden_states=model_in, timestep=t.expand(n),
                                                      encoder_hidden_states=negative_embeds,
                                                      attention_kwargs=attention_kwargs, return_dict=False)[0]
                        noise_pred = uncond + guidance_scale * (noise_pred - uncond)
                latents = self.scheduler.step(noise_pred, t, latents, return_dict=False)[0]
                if callback_on_step_end is not None:
                    callback_on_step_end(self, i, t, {"latents": latents})
                bar.update()

        video = latents if output_type == "latent" else self.decode_latents(latents, output_type)
        self.maybe_free_model_hooks()
        return WanPipelineOutput(frames=video) if return_dict else (video,)

    def decode_latents(self, latents: torch.Tensor, output_type: str = "np"):
        """Undo the VAE's per-channel latent normalisation and decode (same maths as WanPipeline)."""
        from diffusers.utils.torch_utils import get_module_execution_device

        vae = self.vae  # its execution device: with model CPU offload, vae.device is the CPU
        latents = latents.to(get_module_execution_device(vae), vae.dtype)
        mean = torch.tensor(vae.config.latents_mean).view(1, -1, 1, 1, 1).to(latents)
        std = torch.tensor(vae.config.latents_std).view(1, -1, 1, 1, 1).to(latents)
        video = vae.decode(latents * std + mean, return_dict=False)[0]
        return self.video_processor.postprocess_video(video, output_type=output_type)

    def optimize(self, *, compile_blocks: bool = False, attention_backend: str | None = None,
                 step_cache_threshold: float | None = None,
                 video_size: tuple[int, int, int] = (81, 480, 832)) -> "MicroVersePipeline":
        """Opt-in speed settings, all from diffusers: compiled repeated blocks, an attention backend, FBCache.

        ``attention_backend`` is a diffusers backend name, or ``"auto"``: on a GPU, the fastest exact
        kernel found by timing one self-attention of ``video_size`` (frames, height, width) with
        batched guidance (see :mod:`.attention`; the choice is kept in ``self.attention_choice``); on a
        CPU the default is kept. ``compile_blocks`` compiles the one repeated ``WanTransformerBlock``
        (30 copies share the graph, so compile time is one block's). ``step_cache_threshold`` enables
        diffusers' First-Block-Cache: a step whose first-block residual changed less than the threshold
        reuses the cached remainder — faster, but the output changes; benchmarks report that difference
        separately. The two combine: the cache decides to skip in a function torch.compile must not
        trace (``torch.compiler.disable``), so with the cache on the blocks are compiled with graph
        breaks allowed (``fullgraph=False``; a block compiled earlier without them is compiled again).
        """
        from microverse.model.pipelines.attention import check_backend

        auto = attention_backend == "auto"
        try:  # an unknown name, a missing package, no kernel here: one clean error, never mid-sampling
            if auto:
                attention_backend = self._fastest_attention_backend(video_size)
            elif attention_backend:
                config = self.transformer.config
                # checked first: setting a backend also makes it diffusers' process-wide default
                check_backend(attention_backend, config.num_attention_heads, config.attention_head_dim,
                              device=str(self._transformer_device()), dtype=self.transformer.dtype)
                self.attention_choice = {"backend": attention_backend, "seconds": None}
            if attention_backend:
                self.transformer.set_attention_backend(attention_backend)
        except (ValueError, RuntimeError) as exc:
            raise MicroverseError(f"attention backend {attention_backend!r} cannot be used here: {exc}",
                                  fix="pass --attention-backend auto or default, or install the "
                                      "package that backend needs") from None
        if step_cache_threshold:
            from diffusers import FirstBlockCacheConfig

            self.transformer.enable_cache(FirstBlockCacheConfig(threshold=step_cache_threshold))
        cached = self.transformer.is_cache_enabled
        if compile_blocks or (cached and getattr(self, "_blocks_fullgraph", False)):
            self.transformer.compile_repeated_blocks(fullgraph=not cached)
            self._blocks_fullgraph = not cached
        return self

    def _transformer_device(self) -> torch.device:
        """Where the transformer runs: with model CPU offload it lives on the CPU but runs on the GPU."""
        from diffusers.utils.torch_utils import get_module_execution_device

        return get_module_execution_device(self.transformer)

    def _fastest_attention_backend(self, video_size: tuple[int, int, int]) -> str | None:
        from microverse.model.pipelines.attention import fastest_attention_backend, video_tokens

        device = self._transformer_device()
        if device.type != "cuda":
            self.attention_choice = None
            return None
        config = self.transformer.config
        name, seconds = fastest_attention_backend(config.num_attention_heads, config.attention_head_dim,
                                                  video_tokens(*video_size), dtype=self.transformer.dtype,
                                                  device=str(device))
        self.attention_choice = {"backend": name, "seconds": seconds}
        return name
