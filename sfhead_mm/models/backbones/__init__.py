"""GCN backbones registered in mmaction's ``MODELS``, with the heads that
carry their original classifiers (``InfoGCNHead``, ``ProtoGCNHead``)."""
from .ctrgcn import *  # noqa: F401,F403
from .infogcn import *  # noqa: F401,F403
from .blockgcn import *  # noqa: F401,F403
from .hdgcn import *  # noqa: F401,F403
from .protogcn import *  # noqa: F401,F403
