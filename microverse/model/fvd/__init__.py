"""Fréchet Video Distance on I3D Kinetics-400 features (the original FVD backbone), in torch."""
