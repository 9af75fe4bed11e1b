"""The bottom floor: what every package may import (the error root, pure helpers with no
dependency on any package of ours)."""
