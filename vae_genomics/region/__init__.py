"""Whole-region synthetic haplotypes: consecutive sections' models joined by a latent chain."""
