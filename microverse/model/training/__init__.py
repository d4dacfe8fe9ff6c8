"""Fine-tuning: datasets, the latent/text-embedding cache, Wan's flow-matching objective, the trainer."""
