"""Generation: load a Wan2.1 pipeline (hub id, folder, fine-tuned weights), sample, write videos."""
