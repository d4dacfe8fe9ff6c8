"""Component configs of a tiny random Wan2.1 pipeline: same classes and code paths, minutes -> seconds.

The shapes keep every structural property the real model has (16 latent channels, 4x temporal and 8x
spatial VAE compression, 1x2x2 patches, RMS q/k norm, cross-attention norm) so tests exercise the same
code as the 1.3B model; only widths and depths shrink.
"""

from __future__ import annotations

TRANSFORMER = dict(
    patch_size=(1, 2, 2), num_attention_heads=2, attention_head_dim=8, in_channels=16, out_channels=16,
    text_dim=32, freq_dim=32, ffn_dim=32, num_layers=2, cross_attn_norm=True,
    qk_norm="rms_norm_across_heads", rope_max_seq_len=32,
)
VAE = dict(base_dim=8, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1, temperal_downsample=[False, True, True])
TEXT_ENCODER = dict(d_model=32, d_kv=8, d_ff=64, num_layers=2, num_heads=4, relative_attention_num_buckets=8,
                    relative_attention_max_distance=16, feed_forward_proj="gated-gelu", dropout_rate=0.0)
# Wan2.1-T2V-1.3B-Diffusers samples with UniPC in flow mode, shift 3.0 (the 480p setting).
SCHEDULER = dict(prediction_type="flow_prediction", use_flow_sigmas=True, flow_shift=3.0, num_train_timesteps=1000)

# Real Wan2.1-T2V-1.3B components, for benchmarks with random weights. Checked against the values the
# published Wan-AI/Wan2.1-T2V-1.3B-Diffusers folder was converted with: huggingface/diffusers
# scripts/convert_wan_to_diffusers.py ("Wan-T2V-1.3B": 12 heads x 128, ffn 8960, 30 layers, freq 256,
# text_dim 4096 = the d_model of its UMT5-XXL text encoder, google/umt5-xxl; rope_max_seq_len is the
# class default 1024), its VAE is `AutoencoderKLWan()` with the class defaults (spelled out below; the
# latents_mean/std defaults are the real ones), and its scheduler is the UniPC flow-mode one above
# (flow_shift 3.0, diffusers PR #10922). tests/model/test_configs.py pins these values.
WAN21_1_3B_TRANSFORMER = dict(
    patch_size=(1, 2, 2), num_attention_heads=12, attention_head_dim=128, in_channels=16, out_channels=16,
    text_dim=4096, freq_dim=256, ffn_dim=8960, num_layers=30, cross_attn_norm=True,
    qk_norm="rms_norm_across_heads", rope_max_seq_len=1024, eps=1e-6,
)
WAN21_VAE = dict(base_dim=96, z_dim=16, dim_mult=[1, 2, 4, 4], num_res_blocks=2, temperal_downsample=[False, True, True])
