import sys

from tinybench import main

sys.exit(main("classify"))
