"""``python -m pacepred.data.synthetic``: the generator's command line (:mod:`.cli`)."""

import sys

from pacepred.data.synthetic.cli import main

sys.exit(main())
