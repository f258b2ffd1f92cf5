"""GCN backbones registered in mmaction's ``MODELS``."""
from .ctrgcn import *  # noqa: F401,F403
from .infogcn import *  # noqa: F401,F403
from .blockgcn import *  # noqa: F401,F403
from .hdgcn import *  # noqa: F401,F403
from .protogcn import *  # noqa: F401,F403
