"""``python -m vae_genomics.cli``: the same as the ``vae-genomics`` command."""

import sys

from vae_genomics.cli.main import main

sys.exit(main())
