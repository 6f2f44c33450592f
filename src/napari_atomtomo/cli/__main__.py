"""``python -m napari_atomtomo.cli``: the same as the ``atomtomo`` command."""

import sys

from . import main

sys.exit(main())
