import sys

from nnglm.cli import main

sys.exit(main())
