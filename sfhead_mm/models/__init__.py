"""Registered models: backbones, SF-Head modules, losses and the recognizer."""
from .backbones import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .sf_head import *  # noqa: F401,F403
