"""MicroVerse model: Wan2.1 text-to-video generation, fine-tuning and FVD, on diffusers/transformers/accelerate/peft.

Layout follows diffusers: ``configs`` (paper settings, tiny component configs, shipped accelerate files),
``pipelines`` (loading, the sampling pipeline, video files, benchmark generation), ``training``
(data, latent cache, flow-matching trainer) and ``fvd`` (I3D features and the Fréchet distance).
Nothing here is imported by the core CLI at start-up: torch and diffusers load only when a command runs.
"""
