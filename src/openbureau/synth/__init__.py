"""Synthetic national credit populations with ground truth (``openbureau synth``)."""

from openbureau.synth.config import DEFAULT_NOISE, IdentityNoise, SynthConfig
from openbureau.synth.generate import SynthSummary, generate

__all__ = ["DEFAULT_NOISE", "IdentityNoise", "SynthConfig", "SynthSummary", "generate"]
