"""Registered models: backbones, SF-Head modules, losses and the recognizer."""
from .aux_head import *  # noqa: F401,F403
from .backbones import *  # noqa: F401,F403
from .deploy import *  # noqa: F401,F403
from .fr_head import *  # noqa: F401,F403
from .layers import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .plugin import *  # noqa: F401,F403
from .recognizer import *  # noqa: F401,F403
from .sf_head import *  # noqa: F401,F403
