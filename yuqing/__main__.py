"""Allow `python -m yuqing`."""
from yuqing.cli import main

main()
