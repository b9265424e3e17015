"""PyTorch twin of `convkit train --recipe mnist`; every number is a flag (--help), the defaults are the recipe."""
import time
T0 = time.perf_counter()  # before torch is imported: the wall time counts the whole process, as convkit's

import common  # noqa: E402

if __name__ == '__main__':
    common.run('mnist', T0)
